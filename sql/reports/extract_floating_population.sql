-- Migrants: persons whose category is 流动人口 (a police registration, or the grid worker's 人员类别 when
-- never registered). The newest registration on or before D supplies origin, reason and permit (marts.persons).
CREATE OR REPLACE TEMP VIEW x_floating_population AS
SELECT p.person_key AS 人员主键, p.name AS 姓名, p.sex AS 性别, p.birth_date AS 出生日期,
       p.id_number AS 公民身份号码, p.floating_origin AS 户籍地,
       coalesce(province_of_id(p.id_number), province_of_text(p.floating_origin)) AS 户籍省份,
       p.floating_registered_on AS 登记日期, p.floating_stay_reason AS 居住事由,
       p.floating_permit_valid_until AS 居住证有效期至,
       CASE WHEN p.occupancy = '出租' THEN '是' ELSE '否' END AS 是否租住,
       p.status AS 状态, p.community_name AS 社区名称, p.grid_name AS 网格名称, p.std_address AS 居住地址,
       p.phone AS 联系电话,
       p.district_code AS _district_code, p.street_code AS _street_code, p.community_code AS _community_code, p.grid_code AS _grid_code
FROM rp_persons p
WHERE p.category = '流动人口' AND p.status IN ('在住', '待核实', '已离开');
