-- 网格规范达标: households per grid and micro-grid against the limits (variables from
-- reports/standards.yaml), and grid population on record vs verified side by side.
-- A household is a residential house (房屋用途 住宅, or not stated).
CREATE OR REPLACE TEMP TABLE r_std_houses AS
SELECT microgrid_code, count(*) FILTER (WHERE usage IS NULL OR usage = '住宅') AS households
FROM rp_houses GROUP BY microgrid_code;

CREATE OR REPLACE TEMP TABLE r_std_grid AS
SELECT g.community_name AS 社区, g.grid_code AS 网格编码, g.grid_name AS 网格名称, g.grid_type AS 网格类型,
       coalesce(sum(h.households), 0)::BIGINT AS 户数,
       getvariable('grid_min') || '–' || getvariable('grid_max') AS 标准户数,
       CASE WHEN g.grid_type = '专属网格' THEN '不适用（专属网格）'
            WHEN coalesce(sum(h.households), 0) < getvariable('grid_min') THEN '偏少'
            WHEN coalesce(sum(h.households), 0) > getvariable('grid_max') THEN '超标'
            ELSE '达标' END AS 结论,
       min(g.community_code) AS _c
FROM rp_grids g LEFT JOIN r_std_houses h USING (microgrid_code)
GROUP BY g.community_name, g.grid_code, g.grid_name, g.grid_type;

CREATE OR REPLACE TEMP TABLE r_std_micro AS
SELECT g.community_name AS 社区, g.grid_name AS 网格名称, g.microgrid_code AS 微网格编码, g.microgrid_name AS 微网格名称,
       coalesce(h.households, 0)::BIGINT AS 户数,
       getvariable('micro_min') || '–' || getvariable('micro_max') AS 标准户数,
       CASE WHEN coalesce(h.households, 0) < getvariable('micro_min') THEN '偏少'
            WHEN coalesce(h.households, 0) > getvariable('micro_max') THEN '超标' ELSE '达标' END AS 结论,
       g.community_code AS _c, g.grid_code AS _g
FROM rp_grids g LEFT JOIN r_std_houses h USING (microgrid_code);

-- Named as in the 实有人口统计月报 and the grid-population extract (登记人口 = on record, 实有人口 = verified),
-- so a clerk can lay the two reports side by side. A grid over the limit on record but not verified is
-- the pattern to catch before splitting a grid: its register is inflated by people long gone.
CREATE OR REPLACE TEMP TABLE r_std_pop AS
WITH counts AS (
    SELECT g.community_name, g.grid_code, g.grid_name, g.community_code,
           coalesce(n.registered, 0) AS registered, coalesce(n.resident, 0) AS verified,
           coalesce(n.unverified, 0) AS unverified
    FROM (SELECT DISTINCT community_code, community_name, grid_code, grid_name FROM rp_grids) g
    LEFT JOIN marts.population_by_grid n ON n.grid_code = g.grid_code AND n.as_of = getvariable('as_of')
)
SELECT community_name AS 社区, grid_code AS 网格编码, grid_name AS 网格名称,
       registered AS 登记人口, verified AS 实有人口, unverified AS 待核实,
       CASE WHEN registered > getvariable('pop_max') THEN '是' ELSE '否' END AS 登记超1500,
       CASE WHEN verified > getvariable('pop_max') THEN '是' ELSE '否' END AS 实有超1500,
       CASE WHEN verified > getvariable('pop_max') THEN '应考虑拆分'
            WHEN registered > getvariable('pop_max') THEN '登记超标但核实未超：先走访核实，暂不拆分'
            END AS 处理建议,
       community_code AS _c, grid_code AS _g
FROM counts
UNION ALL
-- persons placed in no grid, on a row of their own as in the 实有人口统计月报 (whole-store reports only): both
-- tables then sum the same rows, so disclosure control withholds the same cells in both
-- (pipelines/reports/families.grid_standards)
SELECT '（未定位到网格）', NULL, '—', registered, resident, unverified, '否', '否', NULL, NULL, NULL
FROM marts.population_by_grid
WHERE as_of = getvariable('as_of') AND grid_code IS NULL AND (SELECT scope_level FROM rp_meta) IS NULL;
