CREATE OR REPLACE TEMP VIEW x_elderly_80plus AS
SELECT person_key AS 人员主键, name AS 姓名, sex AS 性别, birth_date AS 出生日期, age AS 年龄,
       id_number AS 公民身份号码, status AS 状态, CASE WHEN living_alone THEN '是' ELSE '否' END AS 独居,
       community_name AS 社区名称, grid_name AS 网格名称, std_address AS 居住地址, phone AS 联系电话,
       district_code AS _district_code, street_code AS _street_code, community_code AS _community_code, grid_code AS _grid_code
FROM rp_persons
WHERE status IN ('在住', '待核实') AND age >= 80;
