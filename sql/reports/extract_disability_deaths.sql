-- 残联: disability records known on D whose holder is 死亡 on D — the card should be checked for
-- cancellation. 死亡日期 and 依据 come from the death evidence that decided the status.
CREATE OR REPLACE TEMP VIEW x_disability_deaths AS
SELECT s.record_no AS 记录编号, s.disability_cert_no AS 残疾证号, s.id_number AS 公民身份号码, s.name AS 姓名,
       s.disability_type AS 残疾类别, s.disability_grade AS 残疾等级, ps.decided_on AS 死亡日期,
       '核查注销残疾人证' AS 建议, ps.basis AS 依据,
       p.district_code AS _district_code, p.street_code AS _street_code, p.community_code AS _community_code,
       p.grid_code AS _grid_code
FROM marts.disability_records s
JOIN marts.persons ps ON ps.person_key = s.person_key AND ps.as_of = s.as_of AND ps.status = '死亡'
LEFT JOIN rp_persons p ON p.person_key = s.person_key
WHERE s.as_of = getvariable('as_of');
