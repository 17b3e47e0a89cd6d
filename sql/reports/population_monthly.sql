-- 实有人口统计月报. Period: period_start (the first of D's month, reports/families.yaml) to D. 实有人口 by grid is marts.population_by_grid's; persons
-- with no grid are reported on a row of their own.
CREATE OR REPLACE TEMP TABLE r_pop_grid AS
WITH g AS (SELECT DISTINCT community_code, community_name, grid_code, grid_name, grid_type FROM rp_grids),
n AS (
    -- the jurisdiction's grids; the persons no grid holds only in a whole-store report (they lie in none)
    SELECT * FROM marts.population_by_grid
    WHERE as_of = getvariable('as_of')
      AND (grid_code IN (SELECT grid_code FROM g) OR (grid_code IS NULL AND (SELECT scope_level FROM rp_meta) IS NULL))
)
SELECT coalesce(g.community_name, '（未定位到网格）') AS 社区, coalesce(g.grid_name, '—') AS 网格, g.grid_type AS 网格类型,
       coalesce(n.resident, 0) AS 实有人口, coalesce(n.hukou, 0) AS 户籍人口, coalesce(n.floating, 0) AS 流动人口,
       coalesce(n.foreign_, 0) AS 境外人员, coalesce(n.unsettled, 0) AS 未落户人员,
       coalesce(n.category_unknown, 0) AS 类别不详, coalesce(n.registered, 0) AS 登记人口,
       coalesce(n.unverified, 0) AS 待核实,
       coalesce(n.registered, 0) - coalesce(n.resident, 0) AS 登记与实有差额,
       g.community_code AS _c, g.grid_code AS _g
FROM g
FULL JOIN n ON n.grid_code = g.grid_code
WHERE g.grid_code IS NOT NULL OR n.grid_code IS NULL;

CREATE OR REPLACE TEMP TABLE r_pop_groups AS
SELECT coalesce(p.community_name, '（未定位到网格）') AS 社区,
       count(*) AS 实有人口,
       count(*) FILTER (WHERE age >= 60) AS "60岁以上",
       count(*) FILTER (WHERE age >= 80) AS "80岁以上",
       count(*) FILTER (WHERE age <= 6) AS "0-6岁",
       count(*) FILTER (WHERE age BETWEEN 6 AND 14) AS "学龄儿童(6-14岁)",
       count(*) FILTER (WHERE dibao) AS 低保对象,
       count(*) FILTER (WHERE tekun) AS 特困人员,
       count(*) FILTER (WHERE disabled) AS 残疾人,
       count(*) FILTER (WHERE living_alone) AS 独居老人,
       count(*) FILTER (WHERE party_member) AS 党员,
       min(p.community_code) AS _c
FROM rp_persons p
WHERE p.status = '在住'
GROUP BY ALL;

-- Changes in the period (the first of D's month to D), each dated by evidence inside the period:
-- 本期迁入: living here on D and the earliest presence evidence on or before D lies in the period;
-- 本期离开 / 本期死亡: the evidence that decided 已离开 / 死亡 is dated in the period (marts.persons decided_on).
-- An undated hukou change (known on every D) belongs to no period.
CREATE OR REPLACE TEMP TABLE r_pop_changes AS
WITH period AS (
    SELECT getvariable('period_start')::DATE AS first_day, getvariable('as_of')::DATE AS last_day
)
SELECT coalesce(p.community_name, '（未定位到网格）') AS 社区,
       count(*) FILTER (WHERE p.status = '在住' AND p.first_presence BETWEEN period.first_day AND period.last_day) AS 本期迁入,
       count(*) FILTER (WHERE p.status = '已离开' AND p.decided_on BETWEEN period.first_day AND period.last_day) AS 本期离开,
       count(*) FILTER (WHERE p.status = '死亡' AND p.decided_on BETWEEN period.first_day AND period.last_day) AS 本期死亡,
       min(p.community_code) AS _c
FROM rp_persons p CROSS JOIN period
GROUP BY ALL;
