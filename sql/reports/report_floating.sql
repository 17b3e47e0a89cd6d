-- 公安 流动人口统计表, over the migrants living here (在住) of x_floating_population.
CREATE OR REPLACE TEMP TABLE r_flo AS
SELECT *,
       CASE WHEN 出生日期 IS NULL THEN '不详'
            WHEN date_sub('year', 出生日期, getvariable('as_of')::DATE) < 18 THEN '18岁以下'
            WHEN date_sub('year', 出生日期, getvariable('as_of')::DATE) < 35 THEN '18-34岁'
            WHEN date_sub('year', 出生日期, getvariable('as_of')::DATE) < 60 THEN '35-59岁'
            ELSE '60岁以上' END AS 年龄段,
       CASE WHEN 登记日期 IS NULL THEN '未登记'
            WHEN date_sub('month', 登记日期, getvariable('as_of')::DATE) < 6 THEN '半年以内'
            WHEN date_sub('month', 登记日期, getvariable('as_of')::DATE) < 12 THEN '半年至一年'
            WHEN date_sub('month', 登记日期, getvariable('as_of')::DATE) < 36 THEN '一至三年'
            ELSE '三年以上' END AS 居住时长,
       -- the two lists the police act on
       coalesce(居住证有效期至 BETWEEN getvariable('as_of')::DATE AND getvariable('as_of')::DATE + 30, false) AS _expiring,
       登记日期 IS NULL AS _unregistered
FROM x_floating_population
WHERE 状态 = '在住';
