-- An incremental build's marts.population_by_grid (pipelines/marts/__init__.py): after marts.persons got the rows
-- of the persons of _marts_delta, the grids they were counted in (sql/marts/delta.sql) and are counted in now
-- lose their rows; sql/marts/population_by_grid.sql counts those grids again over all their persons.
INSERT INTO _marts_grids
SELECT DISTINCT grid_code FROM marts.persons WHERE person_key IN (SELECT person_key FROM _marts_delta);

DELETE FROM marts.population_by_grid p
WHERE EXISTS (SELECT 1 FROM _marts_grids t WHERE t.grid_code IS NOT DISTINCT FROM p.grid_code);
