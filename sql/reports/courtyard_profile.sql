-- 院落/小区画像: one row per 小区 (houses without a 小区 are grouped under their micro-grid's name).
CREATE OR REPLACE TEMP TABLE r_yard AS
WITH h AS (
    SELECT h.house_code, h.building, g.community_code, g.community_name,
           coalesce(nullif(h.compound, ''), '（未标注小区）' || g.microgrid_name) AS compound
    FROM rp_houses h JOIN rp_grids g USING (microgrid_code)
),
p AS (SELECT * FROM rp_persons WHERE status = '在住')
SELECT h.community_name AS 社区, h.compound AS 小区,
       count(DISTINCT h.building) AS 楼栋数, count(DISTINCT h.house_code) AS 房屋数,
       count(DISTINCT p.house_code) AS 有人居住户数, count(p.person_key) AS 实有人口,
       count(p.person_key) FILTER (WHERE p.age >= 60) AS "60岁以上",
       count(p.person_key) FILTER (WHERE p.living_alone) AS 独居老人,
       count(p.person_key) FILTER (WHERE p.disabled) AS 残疾人,
       count(p.person_key) FILTER (WHERE p.party_member) AS 党员,
       count(p.person_key) FILTER (WHERE list_contains(p.tags, '楼栋长')) AS 楼栋长,
       count(p.person_key) FILTER (WHERE list_contains(p.tags, '居民骨干')) AS 居民骨干,
       min(h.community_code) AS _c
FROM h LEFT JOIN p USING (house_code)
GROUP BY h.community_name, h.compound;

-- 楼栋长 and 居民骨干 publish their contact to their courtyard; that is what the file is for (the list
-- file beside the report). Only a number its owner consented to publish (公开联系方式 = 是, _consent) is
-- printed whole; pipelines/reports/families.py masks the others per the department's grant.
CREATE OR REPLACE TEMP TABLE r_yard_contacts AS
SELECT p.community_name AS 社区, coalesce(nullif(p.compound, ''), '（未标注小区）') AS 小区, p.building AS 楼栋,
       p.name AS 姓名, array_to_string(list_filter(p.tags, lambda t: t IN ('楼栋长', '居民骨干')), '、') AS 身份,
       p.phone AS 联系电话, p.phone_public AS _consent, p.community_code AS _c
FROM rp_persons p
WHERE p.status = '在住' AND list_has_any(p.tags, ['楼栋长', '居民骨干']);
