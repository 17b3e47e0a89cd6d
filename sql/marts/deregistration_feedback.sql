-- marts.deregistration_feedback (extract deregistration-feedback, 注销核查建议, contract §3): one row per person
-- who counts in 登记人口 on D but is 已离开 on D. A registration in force keeps a person in 登记人口, so the
-- departure that makes them 已离开 is a grid worker's visit (已搬离 / 人户分离 / 查无此人 at their house); 依据
-- (the status basis) cites it: visit date, result, 记录编号.
-- 警方记录编号: the police records still in force on D — hukou rows 正常 and floating registrations not
-- deregistered on or before D — by their 记录编号 (a row without one by file and row), ';'-separated.
-- 建议: 核查注销户籍 for a hukou registration, 核查注销流动人口登记 for a floating one, both when both. A person on
-- record without any police registration (known from the community census alone, e.g. 境外人员) is listed
-- with an empty 警方记录编号 and 核查注销流动人口登记: the police hold no record to cancel, but the register
-- that counts them is the floating-population one.
-- A person's row reads only their own rows of core.person_status, core.persons and core.evidence: the view
-- deregistration_feedback_rows is every person's, or with variable marts_delta only those of TEMP _marts_delta (an
-- incremental build's persons, sql/marts/delta.sql), whose rows pipelines/marts/__init__.py replaces.
CREATE TEMP TABLE IF NOT EXISTS _marts_delta (person_key VARCHAR);
CREATE OR REPLACE TEMP VIEW deregistration_feedback_rows AS
WITH gone AS (
    SELECT person_key, basis FROM core.person_status
    WHERE registered AND status = '已离开'
      AND (getvariable('marts_delta') IS NOT TRUE OR person_key IN (SELECT person_key FROM _marts_delta))
),
police AS (
    SELECT e.person_key,
           list(DISTINCT coalesce(e.record_no, e.file_name || ' 第' || e.row_no || '行'))
               FILTER (WHERE e.template = 'hukou') AS hukou_records,
           list(DISTINCT coalesce(e.record_no, e.file_name || ' 第' || e.row_no || '行'))
               FILTER (WHERE e.template = 'floating') AS floating_records
    FROM core.evidence e
    WHERE e.person_key IN (SELECT person_key FROM gone)
      AND ((e.template = 'hukou' AND e.kind = 'registration')
           OR (e.template = 'floating' AND e.kind = 'presence'
               AND (e.deregistered_on IS NULL OR e.deregistered_on > getvariable('as_of'))))
      AND (e.evidence_date IS NULL OR e.evidence_date <= getvariable('as_of'))
    GROUP BY e.person_key
)
SELECT g.person_key AS "人员主键",
       p.name AS "姓名",
       p.id_number AS "公民身份号码",
       nullif(array_to_string(list_concat(list_sort(coalesce(r.hukou_records, [])),
                                          list_sort(coalesce(r.floating_records, []))), ';'), '') AS "警方记录编号",
       CASE WHEN len(r.hukou_records) > 0 AND len(r.floating_records) > 0 THEN '核查注销户籍;核查注销流动人口登记'
            WHEN len(r.hukou_records) > 0 THEN '核查注销户籍'
            ELSE '核查注销流动人口登记' END AS "建议",
       g.basis AS "依据"
FROM gone g
LEFT JOIN core.persons p ON p.person_key = g.person_key
LEFT JOIN police r ON r.person_key = g.person_key;
