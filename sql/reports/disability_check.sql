-- Disability records to check (recipient dead, gone, unverified or not linkable) per community and 状态.
CREATE OR REPLACE TEMP TABLE r_sum_disability_check AS
SELECT coalesce(社区名称, '（无法定位社区）') AS 社区, coalesce(状态, '无法关联到人员') AS 状态,
       count(*) AS 记录数, min(_community_code) AS _c
FROM x_disability_check
WHERE (状态 IS NULL OR 状态 <> '在住')
  AND (getvariable('scope_level') IS NULL
       OR CASE getvariable('scope_level') WHEN 'community' THEN _community_code
                                          WHEN 'street' THEN _street_code ELSE _district_code END
          = getvariable('scope_code'))
GROUP BY ALL;

-- 在住残疾人 per community and 残疾类别; the names go to the list file. x_disability_check also holds
-- unplaced records (no person), so the jurisdiction filter is applied here as in the lists.
CREATE OR REPLACE TEMP TABLE r_sum_disability AS
SELECT coalesce(社区名称, '（未定位到网格）') AS 社区, coalesce(残疾类别, '不详') AS 残疾类别,
       count(*) AS 在住残疾人,
       count(*) FILTER (WHERE 残疾等级 IN ('一级', '二级')) AS "一、二级（重度）",
       min(_community_code) AS _c
FROM x_disability_check
WHERE 状态 = '在住'
  AND (getvariable('scope_level') IS NULL
       OR CASE getvariable('scope_level') WHEN 'community' THEN _community_code
                                          WHEN 'street' THEN _street_code ELSE _district_code END
          = getvariable('scope_code'))
GROUP BY ALL;
