-- 实有人口 by grid, the one definition (contract §2): marts.grid_population (the extract) and the 实有人口统计月报
-- (sql/reports/population_monthly.sql) both read these counts. One row per grid with persons, and one with
-- grid_code NULL for the persons no grid holds (no house, or a house in no known micro-grid).
CREATE OR REPLACE TABLE marts.population_by_grid AS
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
GROUP BY grid_code;
