-- marts.grid_population (extract grid-population, contract §3): one row per grid of marts.grids, zeros
-- included; the counts are marts.population_by_grid's.
CREATE OR REPLACE TABLE marts.grid_population AS
WITH grid AS (
    -- grids are listed per micro-grid; a grid's attributes come from its lowest micro-grid code
    SELECT grid_code, district_code, street_code, community_code, grid_name, grid_type
    FROM marts.grids
    QUALIFY row_number() OVER (PARTITION BY grid_code ORDER BY microgrid_code) = 1
),
houses AS (
    SELECT g.grid_code, count(*) AS houses
    FROM marts.houses h JOIN marts.grids g USING (microgrid_code)
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
       coalesce(p.occupied_houses, 0) AS "有人居住房屋"
FROM grid g
LEFT JOIN marts.population_by_grid p ON p.grid_code = g.grid_code AND p.as_of = getvariable('as_of')
LEFT JOIN houses h ON h.grid_code = g.grid_code
ORDER BY g.district_code, g.street_code, g.community_code, g.grid_code;
