-- marts.assistance_check (extract assistance-check, contract §3): assistance records active on D
-- (起始日期 <= D, 终止日期 empty or >= D) whose recipient is 死亡, 已离开 or 待核实 on D.
-- A record delivered in several batches (same 记录编号) is judged on its newest version, so a
-- later file that sets 终止日期 ends it. Recipients not linked to any person are not listed here:
-- they are in the stewards' queue (person-sources with an empty 人员主键). ID numbers stay whole;
-- masking happens when the extract is written.
-- marts.assistance_flagged holds the same rows with the identity of their recipient (person_key) and record
-- (record: its 记录编号, else batch:row), which the 民政 follow-up tasks key on (sql/marts/tasks.sql);
-- marts.assistance_check is its contract columns, in the contract's order.
CREATE OR REPLACE TABLE marts.assistance_flagged AS
WITH latest AS (
    SELECT a.*, record_id(b.batch_no, a.row_no) AS record_id
    FROM staging.assistance a
    LEFT JOIN raw.batches b USING (batch_id)
    QUALIFY row_number() OVER (
        PARTITION BY coalesce(nullif(trim(a.record_no), ''), a.batch_id || ':' || a.row_no)
        ORDER BY b.loaded_at DESC NULLS LAST, a.batch_id DESC, a.row_no DESC) = 1
)
SELECT a.record_no AS "记录编号",
       coalesce(a.id_number, a.id_raw) AS "公民身份号码",
       a.name AS "姓名",
       a.assistance_type AS "救助类别",
       a.monthly_amount AS "月救助金额",
       s.status AS "状态",
       s.basis AS "依据",
       l.person_key,
       coalesce(nullif(trim(a.record_no), ''), a.batch_id || ':' || a.row_no) AS record,
       CASE s.status WHEN '死亡' THEN 0 WHEN '已离开' THEN 1 ELSE 2 END AS status_order,
       a.batch_id, a.row_no
FROM latest a
JOIN core.person_links l ON l.record_id = a.record_id
JOIN core.person_status s ON s.person_key = l.person_key
WHERE a.start_date <= getvariable('as_of')
  AND (a.end_date IS NULL OR a.end_date >= getvariable('as_of'))
  AND s.status IN ('死亡', '已离开', '待核实');

CREATE OR REPLACE TABLE marts.assistance_check AS
SELECT "记录编号", "公民身份号码", "姓名", "救助类别", "月救助金额", "状态", "依据"
FROM marts.assistance_flagged
ORDER BY status_order, "记录编号", batch_id, row_no;
