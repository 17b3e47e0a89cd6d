-- 适龄儿童: the cohort of the next enrolment that D's school year prepares (school_enrolment_year, E): turning 6
-- on or before 31 August of E and not yet 6 on 31 August of E − 1. 在住 and 待核实 both listed: the school wants to know who may turn up.
CREATE OR REPLACE TEMP VIEW x_school_age_children AS
SELECT person_key AS 人员主键, name AS 姓名, sex AS 性别, birth_date AS 出生日期, id_number AS 公民身份号码,
       category AS 人员类别, status AS 状态, community_name AS 社区名称, grid_name AS 网格名称,
       std_address AS 居住地址, phone AS 联系电话,
       district_code AS _district_code, street_code AS _street_code, community_code AS _community_code, grid_code AS _grid_code
FROM rp_persons
WHERE status IN ('在住', '待核实')
  AND birth_date >  make_date(school_enrolment_year(getvariable('as_of')) - 7, 8, 31)
  AND birth_date <= make_date(school_enrolment_year(getvariable('as_of')) - 6, 8, 31);
