-- Contract extract (marts/deregistration_feedback.sql), placed by the person's current house (the one they
-- were found gone from).
CREATE OR REPLACE TEMP VIEW x_deregistration_feedback AS
SELECT m.*, g.district_code AS _district_code, g.street_code AS _street_code, g.community_code AS _community_code,
       g.grid_code AS _grid_code
FROM marts.deregistration_feedback m
LEFT JOIN marts.persons s ON s.person_key = m.人员主键 AND s.as_of = getvariable('as_of')
LEFT JOIN rp_grids g ON g.microgrid_code = s.microgrid_code;
