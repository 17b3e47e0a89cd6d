-- core.person_status for the persons a batch can change (an incremental build, pipelines/status/delta.py):
-- those whose evidence core/evidence_delta.sql rebuilt (scratch.person_delta), and those whose current
-- house now lies in another micro-grid or grid (core.houses and core.grids are rebuilt from every batch).
-- Everyone else keeps the row the last build wrote for the same as-of date and window. The set replaces
-- scratch.person_delta: the persons whose status row this build replaced. status_rules.sql runs
-- after this file's first statements, with status_delta, so it decides only the persons of _status_delta.
CREATE OR REPLACE TEMP TABLE _status_delta AS
SELECT person_key FROM scratch.person_delta
UNION
SELECT s.person_key
FROM core.person_status s
LEFT JOIN core.houses h ON h.house_code = s.house_code
LEFT JOIN core.grids g ON g.microgrid_code = h.microgrid_code
WHERE s.microgrid_code IS DISTINCT FROM h.microgrid_code OR s.grid_code IS DISTINCT FROM g.grid_code;
-- handed on to the marts (sql/marts/delta.sql), which drop it
CREATE OR REPLACE TABLE scratch.person_delta AS SELECT person_key FROM _status_delta;
