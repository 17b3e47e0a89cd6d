-- 0-6岁儿童 and 65岁以上老人 per grid (基本公共卫生服务 targets); names go to the list files.
CREATE OR REPLACE TEMP TABLE r_sum_health AS
SELECT coalesce(社区名称, '（未定位到网格）') AS 社区, coalesce(网格名称, '—') AS 网格,
       count(*) FILTER (WHERE 人群 = '0-6岁儿童') AS "0-6岁儿童",
       count(*) FILTER (WHERE 人群 = '0-6岁儿童' AND 状态 = '待核实') AS "其中待核实(儿童)",
       count(*) FILTER (WHERE 人群 = '65岁及以上老人') AS "65岁及以上老人",
       count(*) FILTER (WHERE 人群 = '65岁及以上老人' AND 状态 = '待核实') AS "其中待核实(老人)",
       count(*) FILTER (WHERE 年龄 >= 80) AS "其中80岁以上",
       min(_community_code) AS _c, min(_grid_code) AS _g
FROM x_health_key_groups
GROUP BY ALL;
