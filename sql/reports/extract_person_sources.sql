-- Lineage rows are placed by their person's current grid; unlinked rows (empty 人员主键) belong to no
-- jurisdiction and so appear only in a whole-store extract, where the stewards work them off.
CREATE OR REPLACE TEMP VIEW x_person_sources AS
SELECT m.*, p.district_code AS _district_code, p.street_code AS _street_code, p.community_code AS _community_code
FROM marts.person_sources m
LEFT JOIN rp_persons p ON p.person_key = m.人员主键;
