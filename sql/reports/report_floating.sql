-- 公安 流动人口统计表, over the migrants living here (在住) of x_floating_population; bands from categories.sql.
CREATE OR REPLACE TEMP TABLE r_flo AS
SELECT *,
       CASE WHEN 出生日期 IS NULL THEN '不详'
            ELSE coalesce((SELECT label FROM rp_age_bands
                  WHERE date_sub('year', 出生日期, getvariable('as_of')::DATE) >= from_age
                    AND (below_age IS NULL OR date_sub('year', 出生日期, getvariable('as_of')::DATE) < below_age)), '不详')
       END AS 年龄段,
       CASE WHEN 登记日期 IS NULL THEN '未登记'
            ELSE (SELECT label FROM rp_stay_bands
                  WHERE date_sub('month', 登记日期, getvariable('as_of')::DATE) >= from_months
                    AND (below_months IS NULL OR date_sub('month', 登记日期, getvariable('as_of')::DATE) < below_months))
       END AS 居住时长,
       -- the two lists the police act on
       coalesce(居住证有效期至 BETWEEN getvariable('as_of')::DATE AND getvariable('as_of')::DATE + 30, false) AS _expiring,
       登记日期 IS NULL AS _unregistered
FROM x_floating_population
WHERE 状态 = '在住';
