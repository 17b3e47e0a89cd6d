-- 高龄老人 counts per grid; the names themselves go to the list file beside the report.
CREATE OR REPLACE TEMP TABLE r_sum_elderly AS
SELECT coalesce(社区名称, '（未定位到网格）') AS 社区, coalesce(网格名称, '—') AS 网格,
       count(*) AS "80岁以上",
       count(*) FILTER (WHERE 状态 = '在住') AS 在住,
       count(*) FILTER (WHERE 状态 = '待核实') AS 待核实,
       count(*) FILTER (WHERE 独居 = '是') AS 独居,
       count(*) FILTER (WHERE 年龄 >= 90) AS "90岁以上",
       count(*) FILTER (WHERE 年龄 >= 100) AS "100岁以上",
       min(_community_code) AS _c, min(_grid_code) AS _g
FROM x_elderly_80plus
GROUP BY ALL;
