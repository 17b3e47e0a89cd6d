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
WHERE 状态 = '在住'
  AND (getvariable('scope_level') IS NULL
       OR CASE getvariable('scope_level') WHEN 'grid' THEN _grid_code WHEN 'community' THEN _community_code
                                          WHEN 'street' THEN _street_code ELSE _district_code END
          = getvariable('scope_code'));

-- Per grid: migrants living here, permits running out within 30 days, and those never registered
-- (run after r_flo is cut to the jurisdiction).
CREATE OR REPLACE TEMP TABLE r_sum_floating AS
SELECT coalesce(社区名称, '（未定位到网格）') AS 社区, coalesce(网格名称, '—') AS 网格,
       count(*) AS 在住流动人口,
       count(*) FILTER (WHERE _expiring) AS 居住证30天内到期,
       count(*) FILTER (WHERE _unregistered) AS 从未登记,
       min(_community_code) AS _c, min(_grid_code) AS _g
FROM r_flo
GROUP BY ALL;
