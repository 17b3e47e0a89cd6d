-- 人口变动月报 (report family population-changes): what changed in 实有人口 between two points in time, per grid,
-- and who made each change, with the evidence that decided it.
--
-- The two points are the day before the period (period_start - 1: 期初) and D (期末). Each is 实有人口 by the
-- product's one definition: status 在住 in the grid of the person's house (marts.population_by_grid). 期末 is
-- marts.persons for D; 期初 is the TEMP table rc_start, the same rules (sql/core/status_rules.sql) decided as of
-- period_start - 1 by pipelines.status.status_at. A change is a difference between the two points:
--   增加 in grid G: 在住 in G at 期末, not 在住 in G at 期初 — by what the person was at 期初:
--       no record yet (出生 when born in the period, else 迁入及新登记), 在住 in another grid (从其他网格迁入),
--       待核实 (待核实转在住, e.g. after a visit), 已离开 (已离开转在住: back again);
--   减少 in grid G: 在住 in G at 期初, not 在住 in G at 期末 — by what the person is at 期末:
--       已离开 (迁出或离开), 死亡, 待核实 (在住转待核实: no presence evidence within the window any more),
--       在住 in another grid (迁往其他网格).
-- So 期末 = 期初 + 增加 − 减少 holds per grid by construction, and each side is counted on its own below.
-- A person who arrives and leaves within the period is in neither stock, hence in neither 增加 nor 减少; the
-- status-change table and list show them (（期初无记录）→ 已离开).
-- The evidence cited is the record that decided the person's status at 期末 (marts.persons decision_*) and the
-- basis the rules wrote for it. The persons whose status or grid differ are the TEMP view rc_transitions
-- (sql/reports/population_changes_transitions.sql: decided here, or kept between builds by
-- pipelines/marts/period_start.py).
-- Variables: as_of (D), period_start, scope_level (NULL: the whole store, where persons without a grid form a
-- place of their own as in 实有人口统计月报). Reads rp_grids (the report's jurisdiction).

CREATE OR REPLACE TEMP TABLE r_chg AS
SELECT x.*,
       CASE WHEN e_in AND NOT (s_in AND s_grid IS NOT DISTINCT FROM e_grid) THEN
           CASE WHEN s_status IS NULL AND birth_date >= getvariable('period_start') THEN '出生'
                WHEN s_status IS NULL THEN '迁入及新登记'
                WHEN s_status = '在住' THEN '从其他网格迁入'
                WHEN s_status = '待核实' THEN '待核实转在住'
                ELSE '已离开转在住' END END AS in_kind,
       CASE WHEN s_in AND NOT (e_in AND s_grid IS NOT DISTINCT FROM e_grid) THEN
           CASE e_status WHEN '已离开' THEN '迁出或离开' WHEN '死亡' THEN '死亡' WHEN '待核实' THEN '在住转待核实'
                ELSE '迁往其他网格' END END AS out_kind
FROM rc_transitions x;

-- the report's places: its grids, and outside any jurisdiction the persons without a grid
CREATE OR REPLACE TEMP TABLE r_chg_places AS
SELECT DISTINCT community_code, community_name, grid_code, grid_name FROM rp_grids
UNION ALL
SELECT NULL, NULL, NULL, NULL WHERE getvariable('scope_level') IS NULL;

CREATE OR REPLACE TEMP TABLE r_chg_grid AS
WITH start_stock AS (
    SELECT grid_code, count(*) AS n FROM rc_start WHERE status = '在住' GROUP BY grid_code
),
end_stock AS (
    SELECT grid_code, resident AS n FROM marts.population_by_grid WHERE as_of = getvariable('as_of')
),
moves AS (
    -- a person is 增加 in the grid at 期末 and 减少 in the grid at 期初 (in_kind and out_kind never share a word)
    SELECT grid_code,
           count(*) FILTER (WHERE kind IN ('迁入及新登记', '出生', '从其他网格迁入', '待核实转在住', '已离开转在住')) AS n_in,
           count(*) FILTER (WHERE kind = '迁入及新登记') AS arrived,
           count(*) FILTER (WHERE kind = '出生') AS born,
           count(*) FILTER (WHERE kind = '从其他网格迁入') AS moved_in,
           count(*) FILTER (WHERE kind = '待核实转在住') AS verified,
           count(*) FILTER (WHERE kind = '已离开转在住') AS returned,
           count(*) FILTER (WHERE kind IN ('迁出或离开', '死亡', '在住转待核实', '迁往其他网格')) AS n_out,
           count(*) FILTER (WHERE kind = '迁出或离开') AS left_,
           count(*) FILTER (WHERE kind = '死亡') AS died,
           count(*) FILTER (WHERE kind = '在住转待核实') AS lapsed,
           count(*) FILTER (WHERE kind = '迁往其他网格') AS moved_out
    FROM (SELECT e_grid AS grid_code, in_kind AS kind FROM r_chg WHERE in_kind IS NOT NULL
          UNION ALL
          SELECT s_grid, out_kind FROM r_chg WHERE out_kind IS NOT NULL)
    GROUP BY grid_code
)
SELECT coalesce(g.community_name, '（未定位到网格）') AS 社区, coalesce(g.grid_name, '—') AS 网格,
       coalesce(s.n, 0) AS 期初实有人口,
       coalesce(m.n_in, 0) AS 本期增加,
       coalesce(m.arrived, 0) AS 迁入及新登记,
       coalesce(m.born, 0) AS 出生,
       coalesce(m.moved_in, 0) AS 从其他网格迁入,
       coalesce(m.verified, 0) AS 待核实转在住,
       coalesce(m.returned, 0) AS 已离开转在住,
       coalesce(m.n_out, 0) AS 本期减少,
       coalesce(m.left_, 0) AS 迁出或离开,
       coalesce(m.died, 0) AS 死亡,
       coalesce(m.lapsed, 0) AS 在住转待核实,
       coalesce(m.moved_out, 0) AS 迁往其他网格,
       coalesce(e.n, 0) AS 期末实有人口,
       -- each side counted on its own: the stocks from the two decisions, the changes from the persons
       CASE WHEN coalesce(e.n, 0) = coalesce(s.n, 0) + coalesce(m.n_in, 0) - coalesce(m.n_out, 0)
            THEN '相符' ELSE '不符' END AS 核对,
       g.community_code AS _c, g.grid_code AS _g
FROM r_chg_places g
LEFT JOIN start_stock s ON s.grid_code IS NOT DISTINCT FROM g.grid_code
LEFT JOIN end_stock e ON e.grid_code IS NOT DISTINCT FROM g.grid_code
LEFT JOIN moves m ON m.grid_code IS NOT DISTINCT FROM g.grid_code
WHERE g.grid_code IS NOT NULL OR coalesce(s.n, 0) + coalesce(e.n, 0) + coalesce(m.n_in, 0) + coalesce(m.n_out, 0) > 0;

-- Every change of status, whether or not it moves 实有人口 (待核实 → 已离开 after a visit does not), placed in the
-- grid at 期末, else at 期初
CREATE OR REPLACE TEMP TABLE r_chg_status AS
SELECT coalesce(g.community_name, '（未定位到网格）') AS 社区,
       coalesce(c.s_status, '（期初无记录）') AS 期初状态, c.e_status AS 期末状态,
       count(*) AS 人数,
       count(*) FILTER (WHERE c.in_kind IS NOT NULL OR c.out_kind IS NOT NULL) AS 其中计入增减,
       g.community_code AS _c
FROM r_chg c
JOIN r_chg_places g ON g.grid_code IS NOT DISTINCT FROM coalesce(c.e_grid, c.s_grid)
WHERE c.s_status IS DISTINCT FROM c.e_status
GROUP BY ALL;

-- The person lists (one row per person and list): 增加 in the grid at 期末, 减少 in the grid at 期初, 死亡 and
-- 状态变更 in the grid at 期末, else at 期初. A person inside the jurisdiction at either point is listed.
CREATE OR REPLACE TEMP TABLE r_chg_list AS
WITH rows_ AS (
    SELECT 'in' AS _list, in_kind AS kind, e_grid AS grid_code, e_house AS house_code, *
    FROM r_chg WHERE in_kind IS NOT NULL
    UNION ALL BY NAME
    SELECT 'out' AS _list, out_kind AS kind, s_grid AS grid_code, s_house AS house_code, *
    FROM r_chg WHERE out_kind IS NOT NULL
    UNION ALL BY NAME
    SELECT 'deaths' AS _list, '死亡' AS kind, coalesce(e_grid, s_grid) AS grid_code,
           coalesce(e_house, s_house) AS house_code, *
    FROM r_chg WHERE e_status = '死亡' AND s_status IS DISTINCT FROM '死亡'
    UNION ALL BY NAME
    SELECT 'status' AS _list, coalesce(s_status, '（期初无记录）') || '→' || e_status AS kind,
           coalesce(e_grid, s_grid) AS grid_code, coalesce(e_house, s_house) AS house_code, *
    FROM r_chg WHERE s_status IS DISTINCT FROM e_status
),
grid_names AS (
    -- marts.grids is per micro-grid; a grid's name is its lowest micro-grid's (as in marts.grid_population)
    SELECT grid_code, arg_min(grid_name, microgrid_code) AS grid_name FROM marts.grids GROUP BY grid_code
)
SELECT r._list, r.kind AS 变动类型, g.community_name AS 社区名称, g.grid_name AS 网格名称,
       r.name AS 姓名, r.sex AS 性别, r.birth_date AS 出生日期, r.id_number AS 公民身份号码,
       coalesce(r.s_status, '（期初无记录）') AS 期初状态, gs.grid_name AS 期初网格,
       r.e_status AS 期末状态, ge.grid_name AS 期末网格,
       h.std_address AS 标准地址,
       r.decision_date AS 证据日期, r.decision_source AS 来源, r.decision_ref AS 来源记录, r.basis AS 依据,
       r.person_key AS 人员主键,
       g.community_code AS _community_code, g.grid_code AS _grid_code
FROM rows_ r
JOIN r_chg_places g ON g.grid_code IS NOT DISTINCT FROM r.grid_code
LEFT JOIN grid_names gs ON gs.grid_code = r.s_grid
LEFT JOIN grid_names ge ON ge.grid_code = r.e_grid
LEFT JOIN marts.houses h ON h.house_code = r.house_code;
