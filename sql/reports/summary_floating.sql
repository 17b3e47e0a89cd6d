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
