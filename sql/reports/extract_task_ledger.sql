-- The ledger of follow-up tasks known on D (marts.tasks): open and closed, each with how it was settled.
CREATE OR REPLACE TEMP VIEW x_task_ledger AS
WITH grid AS (
    SELECT grid_code, grid_name, district_code, street_code, community_code
    FROM rp_grids
    QUALIFY row_number() OVER (PARTITION BY grid_code ORDER BY microgrid_code) = 1
)
SELECT t.task_id AS 任务编号, task_kind_cn(t.kind) AS 任务类型, task_state_cn(t.state, t.overdue) AS 办理状态,
       t.opened_on AS 开始日期, t.closed_on AS 办结日期, t.days AS 用时天数,
       t.grid_code AS 网格编码, g.grid_name AS 网格名称, t.house_code AS 房屋编码, t.person_key AS 人员主键,
       p.name AS 姓名, p.id_number AS 公民身份号码, t.basis AS 事由, t.resolution AS 办结结果,
       t.closing_detail AS 办结依据,
       g.district_code AS _district_code, g.street_code AS _street_code, g.community_code AS _community_code,
       g.grid_code AS _grid_code
FROM marts.tasks t
LEFT JOIN marts.persons p ON p.person_key = t.person_key AND p.as_of = getvariable('as_of')
LEFT JOIN grid g ON g.grid_code = t.grid_code;
