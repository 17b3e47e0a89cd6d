-- The last build's marts.houses and marts.grids, kept on this connection before sql/marts/places.sql replaces
-- them, for sql/marts/delta.sql to find the houses and micro-grids whose row changed (an incremental build).
CREATE OR REPLACE TEMP TABLE _marts_houses_was AS SELECT * FROM marts.houses;
CREATE OR REPLACE TEMP TABLE _marts_grids_was AS SELECT * FROM marts.grids;
