-- One row per disability record known on D, with the status of the person it links to. A record that
-- links to no one is listed with an empty 状态: 残联 should know its register has an unplaceable entry.
CREATE OR REPLACE TEMP VIEW x_disability_check AS
SELECT s.record_no AS 记录编号, s.disability_cert_no AS 残疾证号, s.id_number AS 公民身份号码, s.name AS 姓名,
       s.disability_type AS 残疾类别, s.disability_grade AS 残疾等级, p.status AS 状态, ps.basis AS 依据,
       p.community_name AS 社区名称,
       p.district_code AS _district_code, p.street_code AS _street_code, p.community_code AS _community_code
FROM marts.disability_records s
LEFT JOIN rp_persons p ON p.person_key = s.person_key
-- basis is read here only: rp_persons leaves out that long text (21M rows of it at city scale)
LEFT JOIN marts.persons ps ON ps.person_key = p.person_key AND ps.as_of = getvariable('as_of')
WHERE s.as_of = getvariable('as_of');
