-- The mart keeps whole ID numbers; a valid ID belongs to exactly one person, which places the row.
CREATE OR REPLACE TEMP VIEW x_assistance_check AS
WITH by_id AS (
    SELECT id_number, any_value(district_code) AS district_code, any_value(street_code) AS street_code,
           any_value(community_code) AS community_code
    FROM rp_persons WHERE id_number IS NOT NULL GROUP BY id_number
)
SELECT m.*, b.district_code AS _district_code, b.street_code AS _street_code, b.community_code AS _community_code
FROM marts.assistance_check m
LEFT JOIN by_id b ON b.id_number = m.公民身份号码;
