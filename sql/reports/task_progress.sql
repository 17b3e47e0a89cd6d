-- 走访核查进度 (in the 网格规范达标 report): per grid of the jurisdiction, the verification tasks open, overdue
-- and closed (this period: since the previous build's as-of, variable prev_as_of; and in all), the median days
-- from opening to the closing record, the police checks still open, and 登记人口 − 实有人口 now and at the
-- previous build (marts.grid_series, read through r_task_history: see pipelines/reports/families.py).
CREATE OR REPLACE TEMP TABLE r_task_progress AS
WITH grid AS (
    SELECT grid_code, min(community_code) AS _c, min(community_name) AS community_name,
           arg_min(grid_name, microgrid_code) AS grid_name,
           string_agg(DISTINCT grid_worker, '、' ORDER BY grid_worker) AS workers
    FROM rp_grids
    GROUP BY grid_code
),
pop AS (
    SELECT grid_code, registered, resident AS verified FROM marts.population_by_grid WHERE as_of = getvariable('as_of')
),
tasks AS (
    SELECT grid_code,
           count(*) FILTER (WHERE kind = 'verify' AND state = 'open') AS open,
           count(*) FILTER (WHERE kind = 'verify' AND overdue) AS overdue,
           count(*) FILTER (WHERE kind = 'verify' AND state = 'closed'
                            AND closed_on > coalesce(getvariable('prev_as_of')::DATE, DATE '0001-01-01')) AS closed_now,
           count(*) FILTER (WHERE kind = 'verify' AND state = 'closed') AS closed_all,
           median(days) FILTER (WHERE kind = 'verify' AND state = 'closed') AS median_days,
           count(*) FILTER (WHERE kind = 'deregister' AND state = 'open') AS police_open
    FROM marts.tasks
    GROUP BY grid_code
),
prev AS (
    SELECT grid_code, registered - verified AS gap
    FROM r_task_history
    WHERE as_of = getvariable('prev_as_of')::DATE
)
SELECT g.community_name AS 社区, g.grid_code AS 网格编码, g.grid_name AS 网格名称, g.workers AS 网格员,
       coalesce(t.open, 0) AS 待办走访核查, coalesce(t.overdue, 0) AS 其中逾期, coalesce(t.closed_now, 0) AS 本期办结,
       coalesce(t.closed_all, 0) AS 累计办结,
       t.median_days AS 办结用时中位数（天）,
       coalesce(t.police_open, 0) AS 待公安核查注销,
       coalesce(p.registered, 0) AS 登记人口, coalesce(p.verified, 0) AS 实有人口,
       coalesce(p.registered, 0) - coalesce(p.verified, 0) AS 登记与实有差额,
       pv.gap AS 上期差额,
       coalesce(p.registered, 0) - coalesce(p.verified, 0) - pv.gap AS 差额变化,
       g._c, g.grid_code AS _g
FROM grid g
LEFT JOIN pop p USING (grid_code)
LEFT JOIN tasks t USING (grid_code)
LEFT JOIN prev pv USING (grid_code);

-- the chart's series: the jurisdiction's total gap at each earlier build, then on D
CREATE OR REPLACE TEMP TABLE r_task_series AS
SELECT as_of, sum(registered - verified)::BIGINT AS gap
FROM r_task_history
WHERE grid_code IN (SELECT 网格编码 FROM r_task_progress)
GROUP BY as_of
UNION ALL
SELECT getvariable('as_of')::DATE, sum(登记与实有差额)::BIGINT FROM r_task_progress;
