-- An incremental build's marts.population_by_grid (pipelines/marts/__init__.py): after marts.persons got the rows
-- of the persons of _marts_delta, the grids they were counted in (sql/marts/delta.sql) and are counted in now
-- lose their rows; sql/marts/population_by_grid.sql counts those grids again over all their persons.
INSERT INTO _marts_grids
SELECT DISTINCT grid_code FROM marts.persons WHERE person_key IN (SELECT person_key FROM _marts_delta);

-- (grid_code NULL: the persons no grid holds, one row of their own)
DELETE FROM marts.population_by_grid
WHERE grid_code IN (SELECT grid_code FROM _marts_grids)
   OR (grid_code IS NULL AND EXISTS (SELECT 1 FROM _marts_grids WHERE grid_code IS NULL));
