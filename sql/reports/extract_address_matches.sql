-- address-matches (contract §3, for stewards): every loaded source row that carries a free-text address —
-- floating 现居住地址, assistance 居住地址, hukou 户籍地址 — how it was matched to a house and why (依据,
-- address_basis in sql/macros/address.sql). A matched row lies where its house lies; one with several
-- candidates where they all lie, if they share a community; the rest belong to no jurisdiction and appear
-- only in a whole-store extract, where the street's stewards work them off.
CREATE OR REPLACE TEMP VIEW x_address_matches AS
WITH cand AS (
    SELECT m.template, m.batch_id, m.row_no, any_value(g.community_code) AS community_code,
           any_value(g.street_code) AS street_code, any_value(g.district_code) AS district_code
    FROM (SELECT template, batch_id, row_no, unnest(candidates) AS house_code FROM marts.address_matches
          WHERE match_status = 'multi_match') m
    JOIN rp_houses h USING (house_code) JOIN rp_grids g USING (microgrid_code)
    GROUP BY ALL HAVING count(DISTINCT g.community_code) = 1
)
SELECT m.template AS 来源, m.record_no AS 记录编号, m.address AS 地址,
       CASE m.match_status WHEN 'matched' THEN '已匹配' WHEN 'multi_match' THEN '多个候选' ELSE '未匹配' END AS 匹配结果,
       m.house_code AS 房屋编码,
       array_to_string(m.candidates, ';') AS 候选房屋编码,
       address_basis(m) AS 依据,
       coalesce(g.district_code, c.district_code) AS _district_code,
       coalesce(g.street_code, c.street_code) AS _street_code,
       coalesce(g.community_code, c.community_code) AS _community_code
FROM marts.address_matches m
LEFT JOIN rp_houses h ON h.house_code = m.house_code
LEFT JOIN rp_grids g ON g.microgrid_code = h.microgrid_code
LEFT JOIN cand c USING (template, batch_id, row_no);
