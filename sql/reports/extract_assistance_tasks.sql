-- 民政's assistance checks with their task life: every check open on D, and those settled in D's month.
-- An open task is a row of the assistance check (marts.assistance_flagged, by record and recipient); a
-- settled one names the record that settled it. Placed by the recipient's current house.
CREATE OR REPLACE TEMP VIEW x_assistance_tasks AS
WITH grid AS (
    SELECT grid_code, district_code, street_code, community_code
    FROM rp_grids
    QUALIFY row_number() OVER (PARTITION BY grid_code ORDER BY microgrid_code) = 1
)
SELECT t.task_id AS 任务编号,
       CASE WHEN t.state = 'closed' THEN '本月已办结' ELSE task_state_cn(t.state, t.overdue) END AS 办理状态,
       t.opened_on AS 开始日期, t.closed_on AS 办结日期, t.days AS 用时天数,
       coalesce(a.记录编号, CASE WHEN t.subject NOT LIKE '%:%' THEN t.subject END) AS 记录编号,
       coalesce(a.公民身份号码, p.id_number) AS 公民身份号码, coalesce(a.姓名, p.name) AS 姓名,
       coalesce(a.救助类别, t.assistance_type) AS 救助类别, a.月救助金额,
       p.status AS 状态,
       CASE WHEN t.state = 'closed' THEN t.resolution || '：' || coalesce(t.closing_detail, '无记录') ELSE a.依据 END
           AS 依据,
       g.district_code AS _district_code, g.street_code AS _street_code, g.community_code AS _community_code,
       g.grid_code AS _grid_code
FROM marts.tasks t
LEFT JOIN marts.assistance_flagged a ON t.state = 'open' AND a.record = t.subject AND a.person_key = t.person_key
LEFT JOIN marts.persons p ON p.person_key = t.person_key AND p.as_of = getvariable('as_of')
LEFT JOIN grid g ON g.grid_code = t.grid_code
WHERE t.kind = 'assistance'
  AND (t.state = 'open' OR t.closed_on >= date_trunc('month', getvariable('as_of'))::DATE);
