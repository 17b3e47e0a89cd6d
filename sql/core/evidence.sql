-- core.evidence: what each linked source row says about its person, independent of the as-of date.
-- One row per (record_key, kind); only a floating row that was deregistered yields two rows
-- (its registration as 'presence', its 注销 as 'departure', 'death' or 'deregistration'),
-- because whether the registration still counts depends on D (decided in status_rules.sql).
--
-- kind: presence (residents, visits 在住, floating registration), departure (hukou 迁出/注销,
-- visits 已搬离/人户分离/查无此人, floating 注销 离开本地/转为户籍/其他), death (deaths, hukou 死亡,
-- visits 已死亡, floating 注销 死亡), deregistration (floating 注销 without a known reason: it ends
-- the registration but is neither departure nor death evidence under the contract's list),
-- registration (hukou 正常: sets the category, is not presence), other (assistance, disability,
-- visits 空置: listed in lineage and explain, never decide status).
--
-- A hukou change without 变动日期 keeps evidence_date NULL: it cannot be placed in time, so the
-- status rules take it as known on every D. A floating 注销原因 without 注销日期 does not deregister
-- (the contract deregisters "on or before D", which needs a date).
-- One pass over person_records (which carries what each row says, so the staging tables are not
-- read again), joined to person_links on the integer record_id: at 21M persons the former join on
-- the text record_key and the seven staging joins spilled for minutes.
--
-- A view, read whole by core/evidence_build.sql (a full build) or, with variable evidence_delta, only for the
-- persons of TEMP _evidence_delta by core/evidence_delta.sql (an incremental build: pipelines/status/delta.py).
CREATE OR REPLACE TEMP TABLE _evidence_delta (person_key VARCHAR);
CREATE OR REPLACE TEMP VIEW evidence_rows AS
WITH base AS (
    SELECT l.person_key, r.record_key, r.record_id, r.template, r.batch_id, r.row_no,
           nullif(trim(r.record_no), '') AS record_no, r.house_code AS resolved_house,
           r.stated_house_code, r.event_date, r.outcome, r.registered_on, r.permit_valid_until,
           r.deregistered_on, r.deregistration_reason, r.end_date,
           b.file_name, b.loaded_on, b.loaded_at,
           -- a floating row deregistered yields a second row for its 注销
           unnest(CASE WHEN r.template = 'floating' AND r.deregistered_on IS NOT NULL
                       THEN [false, true] ELSE [false] END) AS is_deregistration
    FROM core.person_links l
    JOIN core.person_records r USING (record_id)
    LEFT JOIN raw.batches b USING (batch_id)
    WHERE l.person_key IS NOT NULL
      AND (getvariable('evidence_delta') IS NOT TRUE OR l.person_key IN (SELECT person_key FROM _evidence_delta))
),
facts AS (
    SELECT *,
           CASE WHEN is_deregistration THEN deregistered_on ELSE event_date END AS evidence_date,
           CASE WHEN is_deregistration THEN
                     CASE deregistration_reason WHEN '死亡' THEN 'death' WHEN '离开本地' THEN 'departure'
                          WHEN '转为户籍' THEN 'departure' WHEN '其他' THEN 'departure'
                          ELSE 'deregistration' END
                WHEN template IN ('residents', 'floating') THEN 'presence'
                WHEN template = 'visits' THEN
                     CASE outcome WHEN '在住' THEN 'presence' WHEN '已死亡' THEN 'death'
                                  WHEN '已搬离' THEN 'departure' WHEN '人户分离' THEN 'departure'
                                  WHEN '查无此人' THEN 'departure' ELSE 'other' END
                WHEN template = 'hukou' THEN
                     CASE outcome WHEN '正常' THEN 'registration' WHEN '死亡' THEN 'death'
                                  WHEN '迁出' THEN 'departure' WHEN '注销' THEN 'departure'
                                  ELSE 'other' END
                WHEN template = 'deaths' THEN 'death'
                ELSE 'other' END AS kind,
           -- an unknown stated code is kept as written (presence needs a house, not a known one);
           -- only residents, visits and floating rows state a 房屋编码
           coalesce(resolved_house, stated_house_code) AS house_code,
           CASE WHEN is_deregistration THEN '流动人口注销'
                ELSE CASE template WHEN 'residents' THEN '实有人口采集' WHEN 'visits' THEN '走访记录'
                                   WHEN 'hukou' THEN '户籍登记' WHEN 'floating' THEN '流动人口登记'
                                   WHEN 'assistance' THEN '社会救助' WHEN 'deaths' THEN '死亡登记'
                                   WHEN 'disability' THEN '残疾人登记' END END AS source_label,
           CASE WHEN is_deregistration THEN coalesce(deregistration_reason, '原因未填写')
                WHEN template = 'floating' THEN '登记'
                WHEN template = 'deaths' THEN '死亡'
                ELSE outcome END AS src_outcome
    FROM base
)
SELECT person_key, record_key, record_id, kind, template, batch_id, row_no, record_no, file_name,
       evidence_date,
       coalesce(evidence_date, loaded_on) AS order_date,
       house_code, source_label, src_outcome AS outcome,
       CASE WHEN template = 'residents' THEN outcome END AS category,
       registered_on, permit_valid_until, deregistered_on, deregistration_reason,   -- floating rows only
       end_date,   -- assistance rows only
       -- how a row is cited (detail, src_ref) is spelled where it is read: sql/macros/evidence.sql
       loaded_at,
       -- ties between same-day presence: a direct visit beats a census row beats a police
       -- registration; then the newest file, then the lowest row
       CASE template WHEN 'visits' THEN 1 WHEN 'residents' THEN 2 WHEN 'floating' THEN 3
                     WHEN 'deaths' THEN 0 WHEN 'hukou' THEN 4 ELSE 5 END AS source_rank
FROM facts;
