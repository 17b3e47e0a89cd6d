-- 实有人口 by grid, the one definition (contract §2): marts.grid_population (the extract) and the 实有人口统计月报
-- (sql/reports/population_monthly.sql) both read these counts. One row per grid with persons, and one with
-- grid_code NULL for the persons no grid holds (no house, or a house in no known micro-grid).
-- The view population_by_grid_rows: every grid, or with variable marts_delta those of TEMP _marts_grids (the grids
-- an incremental build's persons left or entered, sql/marts/delta.sql), each counted over all its persons.
CREATE TEMP TABLE IF NOT EXISTS _marts_grids (grid_code VARCHAR);
CREATE OR REPLACE TEMP VIEW population_by_grid_rows AS
SELECT getvariable('as_of')::DATE AS as_of, grid_code,
       count(*) FILTER (WHERE status = '在住') AS resident,
       count(*) FILTER (WHERE status = '在住' AND category = '户籍人口') AS hukou,
       count(*) FILTER (WHERE status = '在住' AND category = '流动人口') AS floating,
       count(*) FILTER (WHERE status = '在住' AND category = '境外人员') AS foreign_,
       count(*) FILTER (WHERE status = '在住' AND category = '未落户人员') AS unsettled,
       -- 实有人口 splits without remainder: a person living here whose category no source states
       count(*) FILTER (WHERE status = '在住' AND category IS NULL) AS category_unknown,
       count(*) FILTER (WHERE registered) AS registered,
       count(*) FILTER (WHERE status = '待核实') AS unverified,
       count(DISTINCT house_code) FILTER (WHERE status = '在住') AS occupied_houses
FROM marts.persons
WHERE as_of = getvariable('as_of')
  AND (getvariable('marts_delta') IS NOT TRUE OR grid_code IN (SELECT grid_code FROM _marts_grids)
       OR (grid_code IS NULL AND EXISTS (SELECT 1 FROM _marts_grids WHERE grid_code IS NULL)))
GROUP BY grid_code;
