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
CREATE OR REPLACE TABLE core.evidence AS
WITH base AS (
    SELECT l.person_key, r.record_key, r.template, r.batch_id, r.row_no,
           nullif(trim(r.record_no), '') AS record_no, r.house_code AS resolved_house,
           b.file_name, b.loaded_on, b.loaded_at
    FROM core.person_links l
    JOIN core.person_records r USING (record_key)
    LEFT JOIN raw.batches b USING (batch_id)
    WHERE l.person_key IS NOT NULL
),
base2 AS (
    SELECT *,
           coalesce('记录编号 ' || record_no, coalesce(file_name, template) || ' 第' || row_no || '行') AS src_ref
    FROM base
),
facts AS (
    SELECT b.*, 'presence' AS kind, s.collected_on AS evidence_date,
           coalesce(b.resolved_house, s.house_code) AS house_code,
           '实有人口采集' AS source_label, s.category AS outcome, s.category,
           NULL::DATE AS registered_on, NULL::DATE AS permit_valid_until,
           NULL::DATE AS deregistered_on, NULL::VARCHAR AS deregistration_reason,
           '实有人口采集 ' || coalesce(s.collected_on::VARCHAR, '日期缺失') || ' '
               || coalesce(s.category, '人员类别未知') AS what
    FROM base2 b JOIN staging.residents s USING (batch_id, row_no)
    WHERE b.template = 'residents'

    UNION ALL BY NAME
    SELECT b.*,
           CASE s.visit_result WHEN '在住' THEN 'presence'
                               WHEN '已死亡' THEN 'death'
                               WHEN '空置' THEN 'other'
                               WHEN '已搬离' THEN 'departure' WHEN '人户分离' THEN 'departure'
                               WHEN '查无此人' THEN 'departure'
                               ELSE 'other' END AS kind,
           s.visit_date AS evidence_date,
           coalesce(b.resolved_house, s.house_code) AS house_code,
           '走访记录' AS source_label, s.visit_result AS outcome,
           '走访记录 ' || coalesce(s.visit_date::VARCHAR, '日期缺失') || ' '
               || coalesce(s.visit_result, '结果未知') AS what
    FROM base2 b JOIN staging.visits s USING (batch_id, row_no)
    WHERE b.template = 'visits'

    UNION ALL BY NAME
    SELECT b.*,
           CASE s.hukou_status WHEN '正常' THEN 'registration' WHEN '死亡' THEN 'death'
                               WHEN '迁出' THEN 'departure' WHEN '注销' THEN 'departure'
                               ELSE 'other' END AS kind,
           s.change_date AS evidence_date,
           b.resolved_house AS house_code,
           '户籍登记' AS source_label, s.hukou_status AS outcome,
           '户籍登记 ' || CASE WHEN s.change_date IS NOT NULL THEN s.change_date::VARCHAR || ' '
                              ELSE '' END
               || '户籍状态' || coalesce(s.hukou_status, '未知')
               || CASE WHEN s.change_date IS NULL AND s.hukou_status IS DISTINCT FROM '正常'
                       THEN '（变动日期缺失）' ELSE '' END AS what
    FROM base2 b JOIN staging.hukou s USING (batch_id, row_no)
    WHERE b.template = 'hukou'

    UNION ALL BY NAME
    -- the registration itself; status_rules.sql drops it when 注销 is on or before D
    SELECT b.*, 'presence' AS kind, s.registered_on AS evidence_date,
           coalesce(b.resolved_house, s.house_code) AS house_code,
           '流动人口登记' AS source_label, '登记' AS outcome,
           s.registered_on, s.permit_valid_until,
           s.deregistered_on, s.deregistration_reason,
           '流动人口登记 ' || coalesce(s.registered_on::VARCHAR, '日期缺失')
               || CASE WHEN s.permit_valid_until IS NOT NULL
                       THEN ' 居住证有效期至 ' || s.permit_valid_until::VARCHAR ELSE '' END AS what
    FROM base2 b JOIN staging.floating s USING (batch_id, row_no)
    WHERE b.template = 'floating'

    UNION ALL BY NAME
    -- its 注销
    SELECT b.*,
           CASE s.deregistration_reason WHEN '死亡' THEN 'death' WHEN '离开本地' THEN 'departure'
                WHEN '转为户籍' THEN 'departure' WHEN '其他' THEN 'departure'
                ELSE 'deregistration' END AS kind,
           s.deregistered_on AS evidence_date,
           coalesce(b.resolved_house, s.house_code) AS house_code,
           '流动人口注销' AS source_label, coalesce(s.deregistration_reason, '原因未填写') AS outcome,
           s.registered_on, s.permit_valid_until, s.deregistered_on, s.deregistration_reason,
           '流动人口注销 ' || s.deregistered_on::VARCHAR || ' 注销原因'
               || coalesce(s.deregistration_reason, '未填写') AS what
    FROM base2 b JOIN staging.floating s USING (batch_id, row_no)
    WHERE b.template = 'floating' AND s.deregistered_on IS NOT NULL

    UNION ALL BY NAME
    SELECT b.*, 'other' AS kind, s.start_date AS evidence_date,
           b.resolved_house AS house_code, '社会救助' AS source_label, s.assistance_type AS outcome,
           '社会救助 ' || coalesce(s.start_date::VARCHAR, '') || ' ' || coalesce(s.assistance_type, '')
               || CASE WHEN s.end_date IS NOT NULL THEN ' 至 ' || s.end_date::VARCHAR ELSE '' END AS what
    FROM base2 b JOIN staging.assistance s USING (batch_id, row_no)
    WHERE b.template = 'assistance'

    UNION ALL BY NAME
    SELECT b.*, 'death' AS kind, s.death_date AS evidence_date,
           b.resolved_house AS house_code, '死亡登记' AS source_label, '死亡' AS outcome,
           '死亡登记 ' || coalesce(s.death_date::VARCHAR, '日期缺失') AS what
    FROM base2 b JOIN staging.deaths s USING (batch_id, row_no)
    WHERE b.template = 'deaths'

    UNION ALL BY NAME
    SELECT b.*, 'other' AS kind, b2.event_date AS evidence_date,
           b.resolved_house AS house_code, '残疾人登记' AS source_label, NULL AS outcome,
           '残疾人登记 ' || coalesce(b2.event_date::VARCHAR, '') AS what
    FROM base2 b JOIN core.person_records b2 USING (record_key)
    WHERE b.template = 'disability'
)
SELECT person_key, record_key, kind, template, batch_id, row_no, record_no, file_name,
       evidence_date,
       coalesce(evidence_date, loaded_on) AS order_date,
       house_code, source_label, outcome, category,
       registered_on, permit_valid_until, deregistered_on, deregistration_reason,
       trim(what) || ' (' || src_ref || ')' AS detail, src_ref, loaded_at,
       -- ties between same-day presence: a direct visit beats a census row beats a police
       -- registration; then the newest file, then the lowest row
       CASE template WHEN 'visits' THEN 1 WHEN 'residents' THEN 2 WHEN 'floating' THEN 3
                     WHEN 'deaths' THEN 0 WHEN 'hukou' THEN 4 ELSE 5 END AS source_rank
FROM facts;
