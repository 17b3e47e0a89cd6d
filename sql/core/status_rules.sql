-- The status rules of contract §2 over core.evidence, for as_of D and window W (variables
-- as_of, freshness_days; status_person limits them to one person for `explain`, NULL means
-- everyone; status_delta limits them to the persons of TEMP _status_delta, an incremental build's, see
-- core/person_status_delta.sql). The steps are TEMP tables (each is read more than once) and the view
-- status_result; person_status.sql stores status_result, explain reads the steps to show its
-- reasoning. One set of rules, two readers.
--
-- Decisions where the contract is silent (also in pipelines/status/__init__.py):
-- * evidence dated after D does not exist; a floating 注销 dated after D leaves the registration
--   in force on D (it is presence, and its permit still counts).
-- * a hukou change without 变动日期 is known on every D and is dated D when compared with P.
-- * presence needs a house (contract: "each with a date and a house"): a floating registration
--   whose address matched no house is no presence.
-- * a departure dated the same day as P is not newer than P: the person stays.
-- * visits 已死亡 is death evidence at any house (only departures are restricted to P's house).

CREATE TEMP TABLE IF NOT EXISTS _status_delta (person_key VARCHAR);
-- the delta's persons' evidence read once (each step below reads status_evidence), not one scan of core.evidence each
CREATE OR REPLACE TEMP TABLE _status_evidence_delta AS
SELECT * FROM core.evidence
WHERE getvariable('status_delta') IS TRUE AND person_key IN (SELECT person_key FROM _status_delta);
CREATE OR REPLACE TEMP VIEW status_evidence AS
SELECT *
FROM (SELECT * FROM core.evidence WHERE getvariable('status_delta') IS NOT TRUE
      UNION ALL
      SELECT * FROM _status_evidence_delta)
WHERE (getvariable('status_person') IS NULL OR person_key = getvariable('status_person'))
  AND (evidence_date IS NULL OR evidence_date <= getvariable('as_of'));

-- presence: residents, visits 在住, floating registrations not deregistered on or before D,
-- and for those a residence permit valid on D, which is presence dated D
CREATE OR REPLACE TEMP VIEW status_presence AS
SELECT person_key, record_key, record_id, kind, template, batch_id, row_no, record_no, file_name, source_label,
       evidence_date AS presence_date, house_code, source_rank, loaded_at, permit_valid_until,
       false AS via_permit, evidence_date, outcome, registered_on, deregistration_reason, end_date
FROM status_evidence
WHERE kind = 'presence' AND house_code IS NOT NULL AND evidence_date IS NOT NULL
  AND (deregistered_on IS NULL OR deregistered_on > getvariable('as_of'))
UNION ALL
SELECT person_key, record_key, record_id, kind, template, batch_id, row_no, record_no, file_name, '居住证',
       getvariable('as_of') AS presence_date, house_code, source_rank, loaded_at, permit_valid_until,
       true AS via_permit, evidence_date, outcome, registered_on, deregistration_reason, end_date
FROM status_evidence
WHERE kind = 'presence' AND template = 'floating' AND house_code IS NOT NULL
  AND evidence_date IS NOT NULL
  AND (deregistered_on IS NULL OR deregistered_on > getvariable('as_of'))
  AND permit_valid_until >= getvariable('as_of');

-- P: the newest presence. Same-day ties: visit > census > police registration > permit,
-- then the newest file, then the lowest record_id (lower batch number, then lower row), so a rerun
-- picks the same house. The order is packed into one number, bigger is better (bits: day 110+,
-- source 107, not-permit 106, µs since 2000 loaded 54, 2^54 - 1 - record_id below, which holds
-- while there are fewer than 2^22 batches; rank_day and rank_load_us: sql/macros/keys.sql): max() of a
-- number and a join back to its row cost half of a window sort that carries every column (much less at
-- 21M persons, where the sort spilled).
CREATE OR REPLACE TEMP MACRO status_presence_rank(presence_date, source_rank, via_permit, loaded_at, record_id) AS
    (rank_day(presence_date)::HUGEINT << 110)
    + ((7 - source_rank)::HUGEINT << 107)
    + ((NOT via_permit)::HUGEINT << 106)
    + (rank_load_us(loaded_at)::HUGEINT << 54)
    + (18014398509481983 - record_id)::HUGEINT;

CREATE OR REPLACE TEMP TABLE status_p AS
WITH best AS (
    SELECT person_key, max(status_presence_rank(presence_date, source_rank, via_permit, loaded_at, record_id)) AS rank
    FROM status_presence
    GROUP BY person_key
)
SELECT p.*,
       CASE WHEN p.via_permit
            THEN '居住证有效期至 ' || p.permit_valid_until::VARCHAR || '，截至 ' || getvariable('as_of')::VARCHAR
                 || ' 仍有效 (' || evidence_ref(p) || ')'
            ELSE evidence_detail(p) END AS detail,
       evidence_ref(p) AS src_ref
FROM status_presence p
JOIN best b ON b.person_key = p.person_key
           AND b.rank = status_presence_rank(p.presence_date, p.source_rank, p.via_permit, p.loaded_at, p.record_id);

-- newest departure; a visit counts only at P's house (a visit elsewhere says nothing)
CREATE OR REPLACE TEMP TABLE status_departure AS
SELECT person_key, record_key, template, batch_id, row_no, record_no, file_name, source_label, outcome,
       evidence_date, departure_date, house_code, evidence_detail(d) AS detail, evidence_ref(d) AS src_ref
FROM (
    SELECT e.*, coalesce(e.evidence_date, getvariable('as_of')) AS departure_date
    FROM status_evidence e
    LEFT JOIN status_p p ON p.person_key = e.person_key
    WHERE e.kind = 'departure'
      AND (e.template <> 'visits' OR e.house_code = p.house_code)
    QUALIFY row_number() OVER (
        PARTITION BY e.person_key
        ORDER BY departure_date DESC, e.source_rank, e.loaded_at DESC NULLS LAST, e.batch_id, e.row_no) = 1
) d;

-- death: any death evidence on or before D; the civil-affairs death register is cited first
CREATE OR REPLACE TEMP TABLE status_death AS
SELECT person_key, record_key, template, batch_id, row_no, record_no, file_name,
       source_label, outcome, evidence_date, house_code, evidence_detail(d) AS detail, evidence_ref(d) AS src_ref
FROM (
    SELECT *
    FROM status_evidence
    WHERE kind = 'death'
    QUALIFY row_number() OVER (
        PARTITION BY person_key
        ORDER BY CASE template WHEN 'deaths' THEN 0 WHEN 'hukou' THEN 1 WHEN 'floating' THEN 2 ELSE 3 END,
                 evidence_date NULLS LAST, loaded_at DESC NULLS LAST, batch_id, row_no) = 1
) d;

-- newest first: a number rather than a struct, so that arg_max over millions of rows stays cheap.
-- The day, then the file's load time to the microsecond (rank_load_us), then the lower row.
CREATE OR REPLACE TEMP MACRO status_newest_key(d, loaded_at, row_no) AS
    (coalesce(d, DATE '1900-01-01') - DATE '1900-01-01')::HUGEINT * 1000000000000000000000000
    + rank_load_us(loaded_at)::HUGEINT * 100000000
    + (99999999 - row_no);

CREATE OR REPLACE TEMP TABLE status_facts AS
SELECT person_key,
       bool_or(template = 'hukou' AND outcome = '正常') AS hukou_normal,
       bool_or(template = 'floating' AND kind = 'presence') AS has_floating,
       -- 登记人口 drops anyone deregistered by hukou 迁出/注销 or any floating 注销 on or before D
       bool_or((template = 'hukou' AND kind = 'departure')
               OR (template = 'floating' AND kind IN ('departure', 'death', 'deregistration')))
           AS deregistered,
       arg_max(category, status_newest_key(evidence_date, loaded_at, row_no))
           FILTER (WHERE template = 'residents') AS resident_category,
       bool_and(template = 'hukou') AS only_hukou
FROM status_evidence
GROUP BY person_key;

-- for the basis of 待核实 without any presence: the person's newest record of any kind
CREATE OR REPLACE TEMP TABLE status_newest AS
-- (one arg_max of the row, so the words and the key cite the same row)
SELECT person_key, evidence_detail(n) AS newest_detail, n.record_key AS newest_key
FROM (
    SELECT person_key,
           arg_max({'record_key': record_key, 'template': template, 'kind': kind, 'evidence_date': evidence_date,
                    'outcome': outcome, 'registered_on': registered_on, 'permit_valid_until': permit_valid_until,
                    'deregistration_reason': deregistration_reason, 'end_date': end_date,
                    'record_no': record_no, 'file_name': file_name, 'row_no': row_no},
                   status_newest_key(order_date, loaded_at, row_no)) AS n
    FROM status_evidence
    WHERE person_key NOT IN (SELECT person_key FROM status_p)
    GROUP BY person_key
);

CREATE OR REPLACE TEMP VIEW status_result AS
WITH decided AS (
    SELECT f.*, n.newest_detail, n.newest_key,
           p.presence_date, p.house_code, p.detail AS p_detail, p.record_key AS p_key,
           p.source_label AS p_label, p.src_ref AS p_ref,
           dep.record_key AS dep_key, dep.detail AS dep_detail,
           d.record_key AS death_key, d.detail AS death_detail,
           CASE WHEN d.person_key IS NOT NULL THEN '死亡'
                WHEN dep.person_key IS NOT NULL
                     AND (p.person_key IS NULL OR dep.departure_date > p.presence_date) THEN '已离开'
                WHEN p.presence_date >= getvariable('as_of') - getvariable('freshness_days')::INTEGER
                     THEN '在住'
                ELSE '待核实' END AS status
    FROM status_facts f
    LEFT JOIN status_p p USING (person_key)
    LEFT JOIN status_departure dep USING (person_key)
    LEFT JOIN status_death d USING (person_key)
    LEFT JOIN status_newest n USING (person_key)
)
SELECT x.person_key,
       getvariable('as_of')::DATE AS as_of,
       x.status,
       CASE WHEN x.hukou_normal THEN '户籍人口'
            WHEN x.has_floating THEN '流动人口'
            ELSE x.resident_category END AS category,
       x.house_code,
       hs.microgrid_code,
       g.grid_code,
       x.house_code IS NOT NULL AND x.status <> '死亡' AND NOT x.deregistered AS registered,
       x.presence_date,
       CASE x.status
           WHEN '死亡' THEN x.death_detail
           WHEN '已离开' THEN x.dep_detail
               || CASE WHEN x.p_key IS NULL THEN '，此前无在住证据'
                       ELSE '，晚于最近在住证据 ' || x.presence_date::VARCHAR || ' ' || x.p_label
                            || ' (' || x.p_ref || ')' END
           WHEN '在住' THEN x.p_detail
           ELSE CASE WHEN x.p_key IS NOT NULL
                     THEN '最近一次在住证据为 ' || x.presence_date::VARCHAR || ' 的' || x.p_label
                          || ' (' || x.p_ref || ')，已超过 ' || getvariable('freshness_days')::VARCHAR
                          || ' 天未核实'
                     WHEN x.only_hukou THEN '仅有户籍登记，无在住证据：' || x.newest_detail
                     ELSE '无在住证据，最近记录：' || x.newest_detail END
       END AS basis,
       x.p_key AS presence_key,
       CASE x.status WHEN '死亡' THEN x.death_key WHEN '已离开' THEN x.dep_key
                     WHEN '在住' THEN x.p_key ELSE coalesce(x.p_key, x.newest_key) END AS decision_key,
       getvariable('freshness_days')::INTEGER AS freshness_days
FROM decided x
LEFT JOIN core.houses hs ON hs.house_code = x.house_code
LEFT JOIN core.grids g ON g.microgrid_code = hs.microgrid_code;
