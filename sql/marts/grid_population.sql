-- marts.grid_population (extract grid-population, contract §3): one row per grid of core.grids,
-- zeros included. Persons count in the grid of their current house (core.person_status).
CREATE OR REPLACE TABLE marts.grid_population AS
WITH grid AS (
    -- core.grids is per micro-grid; a grid's attributes come from its lowest micro-grid code
    SELECT grid_code, district_code, street_code, community_code, grid_name, grid_type
    FROM core.grids
    QUALIFY row_number() OVER (PARTITION BY grid_code ORDER BY microgrid_code) = 1
),
people AS (
    SELECT grid_code,
           count(*) FILTER (WHERE status = '在住') AS resident,
           count(*) FILTER (WHERE status = '在住' AND category = '户籍人口') AS hukou,
           count(*) FILTER (WHERE status = '在住' AND category = '流动人口') AS floating,
           count(*) FILTER (WHERE status = '在住' AND category = '境外人员') AS foreign_,
           count(*) FILTER (WHERE status = '待核实') AS unverified,
           count(*) FILTER (WHERE registered) AS registered,
           count(DISTINCT house_code) FILTER (WHERE status = '在住') AS occupied
    FROM core.person_status
    WHERE grid_code IS NOT NULL
    GROUP BY grid_code
),
houses AS (
    SELECT g.grid_code, count(*) AS houses
    FROM core.houses h JOIN core.grids g USING (microgrid_code)
    GROUP BY g.grid_code
)
SELECT g.district_code AS "区县代码", g.street_code AS "街道代码", g.community_code AS "社区代码",
       g.grid_code AS "网格编码", g.grid_name AS "网格名称", g.grid_type AS "网格类型",
       coalesce(p.resident, 0) AS "实有人口",
       coalesce(p.hukou, 0) AS "户籍人口",
       coalesce(p.floating, 0) AS "流动人口",
       coalesce(p.foreign_, 0) AS "境外人员",
       coalesce(p.unverified, 0) AS "待核实人数",
       coalesce(p.registered, 0) AS "登记人口",
       coalesce(h.houses, 0) AS "实有房屋",
       coalesce(p.occupied, 0) AS "有人居住房屋"
FROM grid g
LEFT JOIN people p USING (grid_code)
LEFT JOIN houses h USING (grid_code)
ORDER BY g.district_code, g.street_code, g.community_code, g.grid_code;
