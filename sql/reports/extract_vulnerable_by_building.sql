-- Who needs help first in an evacuation, building by building: only persons living here (在住).
CREATE OR REPLACE TEMP VIEW x_vulnerable_by_building AS
SELECT community_name AS 社区名称, compound AS 小区, building AS 楼栋, std_address AS 居住地址,
       person_key AS 人员主键, name AS 姓名, age AS 年龄,
       array_to_string(list_filter([
           CASE WHEN age >= 80 THEN '80岁以上' END,
           CASE WHEN living_alone THEN '独居老人' END,
           CASE WHEN disabled THEN '残疾人' END,
           CASE WHEN age <= 6 THEN '0-6岁儿童' END], lambda x: x IS NOT NULL), '、') AS 重点类别,
       phone AS 联系电话,
       district_code AS _district_code, street_code AS _street_code, community_code AS _community_code, grid_code AS _grid_code
FROM rp_persons
WHERE status = '在住' AND (age >= 80 OR living_alone OR disabled OR age <= 6);
