-- Contract extract; the mart already carries the division codes used for scoping.
CREATE OR REPLACE TEMP VIEW x_grid_population AS
SELECT m.*, m.区县代码 AS _district_code, m.街道代码 AS _street_code, m.社区代码 AS _community_code
FROM marts.grid_population m;
