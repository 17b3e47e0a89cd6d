-- marts.grids and marts.houses: where a person lives, with the division columns of core.grids (the hierarchy
-- never comes from codes); marts.persons (sql/marts/persons.sql) places every person in them. Rebuilt whole
-- by every build (they are small); an incremental build compares them with the last build's
-- (sql/marts/delta.sql) to find the persons whose place changed.
CREATE OR REPLACE TABLE marts.grids AS
SELECT microgrid_code, microgrid_name, grid_code, grid_name, grid_type, community_code, community_name,
       street_code, street_name, district_code, district_name, grid_worker, grid_worker_phone
FROM core.grids;

CREATE OR REPLACE TABLE marts.houses AS
SELECT h.house_code, h.microgrid_code, h.std_address, h.compound, h.building, h.usage, h.occupancy,
       h.unit, h.floor, h.room
FROM core.houses h;
