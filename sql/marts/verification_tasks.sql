-- marts.verification_tasks (extract verification-tasks, 走访核查任务, contract §3): one row per person who is
-- 待核实 on D and has a current house — each is exactly one open verify task of marts.tasks (tasks.sql).
-- 任务 names the task (its id, the day it was opened, and whether it is overdue), so the visit that settles
-- it can cite it; 依据 is the status basis. ID numbers stay whole; masking happens when the extract is written.
CREATE OR REPLACE TABLE marts.verification_tasks AS
WITH grid AS (
    -- core.grids is per micro-grid; a grid's name comes from its lowest micro-grid code (as in grid_population)
    SELECT grid_code, grid_name
    FROM core.grids
    QUALIFY row_number() OVER (PARTITION BY grid_code ORDER BY microgrid_code) = 1
)
SELECT s.grid_code AS "网格编码",
       g.grid_name AS "网格名称",
       s.house_code AS "房屋编码",
       h.std_address AS "地址",
       s.person_key AS "人员主键",
       p.name AS "姓名",
       p.id_number AS "公民身份号码",
       s.presence_date AS "最近在住证据日期",
       '上门核实是否仍在此居住（任务 ' || t.task_id || '，' || strftime(t.opened_on, '%Y-%m-%d') || ' 起'
           || CASE WHEN t.overdue THEN '，已逾期 ' || (t.days - t.overdue_days) || ' 天' ELSE '' END || '）' AS "任务",
       s.basis AS "依据"
FROM core.person_status s
JOIN marts.tasks t ON t.kind = 'verify' AND t.state = 'open' AND t.person_key = s.person_key
LEFT JOIN core.persons p ON p.person_key = s.person_key
LEFT JOIN core.houses h ON h.house_code = s.house_code
LEFT JOIN grid g ON g.grid_code = s.grid_code
WHERE s.status = '待核实' AND s.house_code IS NOT NULL;
