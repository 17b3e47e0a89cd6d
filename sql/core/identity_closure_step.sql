-- One widening of the dirty closure (identity_closure.sql) from its records added last (_frontier; hashes of
-- record keys, as _closure holds them until identity_closure_done.sql); run until _closure_grew is 0. Adds:
-- - every record of the persons those records belonged to (a person's links, key and golden record are decided
--   together), and the keys anchored on their records or IDs with every record anchored on them
--   (identity_keys.sql: a contested key goes to one claimant; all claimants must be decided together) — both
--   through _closure_edges, record to key and back;
-- - every record without a valid ID blocked with one of those without a valid ID (records without a valid ID
--   decide each other: components, identity_components_step.sql).
-- Each round joins its growth with _closure_edges (two integer columns) and the records without a valid ID: the
-- rest of the store is not read again.
CREATE OR REPLACE TEMP TABLE _closure_invalid AS
SELECT * FROM _invalid WHERE closure_h IN (SELECT h FROM _frontier);

CREATE OR REPLACE TEMP TABLE _closure_keys AS
SELECT DISTINCT pk FROM _closure_edges WHERE rk IN (SELECT h FROM _frontier);

CREATE OR REPLACE TEMP TABLE _frontier AS
(SELECT rk AS h FROM _closure_edges WHERE pk IN (SELECT pk FROM _closure_keys)
 UNION
 SELECT closure_h FROM identity_blocked('_invalid', '_closure_invalid'))
EXCEPT
SELECT h FROM _closure;

CREATE OR REPLACE TEMP TABLE _closure_grew AS SELECT count(*) AS n FROM _frontier;

INSERT INTO _closure SELECT h FROM _frontier;
DROP TABLE _closure_keys;
