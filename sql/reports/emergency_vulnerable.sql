-- 应急重点人员 per 小区: how many buildings and persons to reach; the building-by-building list is the file.
CREATE OR REPLACE TEMP TABLE r_sum_vulnerable AS
SELECT coalesce(社区名称, '（未定位到网格）') AS 社区, coalesce(nullif(小区, ''), '（未标注小区）') AS 小区,
       count(DISTINCT 楼栋) AS 涉及楼栋, count(DISTINCT 居住地址) AS 涉及户数, count(*) AS 重点人员,
       count(*) FILTER (WHERE 年龄 >= 80) AS "80岁以上",
       count(*) FILTER (WHERE contains(重点类别, '独居老人')) AS 独居老人,
       count(*) FILTER (WHERE contains(重点类别, '残疾人')) AS 残疾人,
       count(*) FILTER (WHERE 年龄 <= 6) AS "0-6岁儿童",
       min(_community_code) AS _c
FROM x_vulnerable_by_building
GROUP BY ALL;
