-- Contract extract (marts/verification_tasks.sql), placed in its divisions by the house to be visited.
CREATE OR REPLACE TEMP VIEW x_verification_tasks AS
SELECT m.*, g.district_code AS _district_code, g.street_code AS _street_code, g.community_code AS _community_code,
       g.grid_code AS _grid_code
FROM marts.verification_tasks m
LEFT JOIN rp_houses h ON h.house_code = m.房屋编码
LEFT JOIN rp_grids g ON g.microgrid_code = h.microgrid_code;
