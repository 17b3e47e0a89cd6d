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
