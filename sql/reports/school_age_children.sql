-- 适龄儿童 per grid by category; names go to the list file.
CREATE OR REPLACE TEMP TABLE r_sum_school AS
SELECT coalesce(社区名称, '（未定位到网格）') AS 社区, coalesce(网格名称, '—') AS 网格,
       count(*) AS 适龄儿童,
       count(*) FILTER (WHERE 性别 = '男') AS 男,
       count(*) FILTER (WHERE 性别 = '女') AS 女,
       count(*) FILTER (WHERE 人员类别 = '户籍人口') AS 户籍人口,
       count(*) FILTER (WHERE 人员类别 = '流动人口') AS 流动人口,
       count(*) FILTER (WHERE 人员类别 IS DISTINCT FROM '户籍人口' AND 人员类别 IS DISTINCT FROM '流动人口') AS 其他或不详,
       count(*) FILTER (WHERE 状态 = '待核实') AS 待核实,
       min(_community_code) AS _c, min(_grid_code) AS _g
FROM x_school_age_children
GROUP BY ALL;
