-- 实有人口统计月报. Period: the first of D's month to D. Places every person by rp_persons
-- (their current or last house); persons with no grid are reported on a row of their own.
CREATE OR REPLACE TEMP TABLE r_pop_grid AS
SELECT coalesce(g.community_name, '（未定位到网格）') AS 社区, coalesce(g.grid_name, '—') AS 网格, g.grid_type AS 网格类型,
       count(p.person_key) FILTER (WHERE p.status = '在住') AS 实有人口,
       count(p.person_key) FILTER (WHERE p.status = '在住' AND p.category = '户籍人口') AS 户籍人口,
       count(p.person_key) FILTER (WHERE p.status = '在住' AND p.category = '流动人口') AS 流动人口,
       count(p.person_key) FILTER (WHERE p.status = '在住' AND p.category = '境外人员') AS 境外人员,
       count(p.person_key) FILTER (WHERE p.status = '在住' AND p.category = '未落户人员') AS 未落户人员,
       -- 实有人口 splits without remainder: a person living here whose category no source states
       count(p.person_key) FILTER (WHERE p.status = '在住' AND p.category IS NULL) AS 类别不详,
       count(p.person_key) FILTER (WHERE p.registered) AS 登记人口,
       count(p.person_key) FILTER (WHERE p.status = '待核实') AS 待核实,
       count(p.person_key) FILTER (WHERE p.registered) - count(p.person_key) FILTER (WHERE p.status = '在住') AS 登记与实有差额,
       min(g.community_code) AS _c, min(g.grid_code) AS _g
FROM (SELECT DISTINCT community_code, community_name, grid_code, grid_name, grid_type FROM rp_grids) g
FULL JOIN rp_persons p ON p.grid_code = g.grid_code
GROUP BY ALL
HAVING g.grid_code IS NOT NULL OR count(p.person_key) > 0;

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
-- 本期离开 / 本期死亡: the evidence that decided 已离开 / 死亡 (person_status.decision_key) is dated in
-- the period. An undated hukou change (known on every D) belongs to no period. A floating row is two
-- evidence rows with one record_key, so the deciding row is matched by its kind as well.
CREATE OR REPLACE TEMP TABLE r_pop_changes AS
WITH period AS (
    SELECT date_trunc('month', getvariable('as_of')::DATE)::DATE AS first_day, getvariable('as_of')::DATE AS last_day
),
first_presence AS (
    SELECT e.person_key, min(e.evidence_date) AS first_presence
    FROM core.evidence e
    WHERE e.kind = 'presence' AND e.evidence_date <= getvariable('as_of')
    GROUP BY e.person_key
),
decided AS (
    SELECT s.person_key, min(e.evidence_date) AS decided_on
    FROM core.person_status s
    JOIN core.evidence e ON e.record_key = s.decision_key
        AND e.kind = CASE s.status WHEN '死亡' THEN 'death' ELSE 'departure' END
    WHERE s.as_of = getvariable('as_of') AND s.status IN ('已离开', '死亡')
    GROUP BY s.person_key
)
SELECT coalesce(p.community_name, '（未定位到网格）') AS 社区,
       count(*) FILTER (WHERE p.status = '在住' AND f.first_presence BETWEEN period.first_day AND period.last_day) AS 本期迁入,
       count(*) FILTER (WHERE p.status = '已离开' AND d.decided_on BETWEEN period.first_day AND period.last_day) AS 本期离开,
       count(*) FILTER (WHERE p.status = '死亡' AND d.decided_on BETWEEN period.first_day AND period.last_day) AS 本期死亡,
       min(p.community_code) AS _c
FROM rp_persons p CROSS JOIN period
LEFT JOIN first_presence f USING (person_key)
LEFT JOIN decided d USING (person_key)
GROUP BY ALL;
