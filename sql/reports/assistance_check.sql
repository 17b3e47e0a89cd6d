-- 救助对象核查 per community and 状态, with the monthly amount at risk; the records are the list file.
-- x_assistance_check places a record by its recipient's ID, so the jurisdiction filter is applied here.
CREATE OR REPLACE TEMP TABLE r_sum_assistance AS
SELECT coalesce(c.community_name, '（无法定位社区）') AS 社区, coalesce(x.状态, '不详') AS 状态,
       count(*) AS 记录数, count(DISTINCT x.公民身份号码) AS 人数,
       coalesce(sum(x.月救助金额), 0)::DECIMAL(14, 2) AS 月救助金额,
       x._community_code AS _c
FROM x_assistance_check x
LEFT JOIN (SELECT DISTINCT community_code, community_name FROM rp_grids) c ON c.community_code = x._community_code
WHERE getvariable('scope_level') IS NULL
   OR CASE getvariable('scope_level') WHEN 'community' THEN x._community_code
                                      WHEN 'street' THEN x._street_code ELSE x._district_code END
      = getvariable('scope_code')
GROUP BY ALL;
