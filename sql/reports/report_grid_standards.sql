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

CREATE OR REPLACE TEMP TABLE r_std_pop AS
SELECT g.community_name AS 社区, g.grid_code AS 网格编码, g.grid_name AS 网格名称,
       count(p.person_key) FILTER (WHERE p.registered) AS 在册人口,
       count(p.person_key) FILTER (WHERE p.status = '在住') AS 核实人口,
       count(p.person_key) FILTER (WHERE p.status = '待核实') AS 待核实,
       CASE WHEN count(p.person_key) FILTER (WHERE p.registered) > getvariable('pop_max') THEN '是' ELSE '否' END AS 在册超1500,
       CASE WHEN count(p.person_key) FILTER (WHERE p.status = '在住') > getvariable('pop_max') THEN '是' ELSE '否' END AS 核实超1500,
       min(g.community_code) AS _c
FROM (SELECT DISTINCT community_code, community_name, grid_code, grid_name FROM rp_grids) g
LEFT JOIN rp_persons p ON p.grid_code = g.grid_code
GROUP BY g.community_name, g.grid_code, g.grid_name;
