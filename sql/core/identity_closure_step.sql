-- One widening of the dirty closure (identity_closure.sql); run until _closure_grew is 0.
-- - every record of the persons its records belonged to (a person's links, key and golden record are
--   decided together), and the keys anchored on its records or IDs with every record anchored on them
--   (identity_keys.sql: a contested key goes to one claimant; all claimants must be decided together);
-- - every record without a valid ID sharing a blocking key with one of its records without a valid ID
--   (records without a valid ID decide each other: components, identity_components_step.sql).
CREATE OR REPLACE TEMP TABLE _closure_invalid AS SELECT * FROM _invalid SEMI JOIN _closure USING (record_key);

CREATE OR REPLACE TEMP TABLE _closure_keys AS
SELECT person_key FROM core.person_links
WHERE person_key IS NOT NULL AND record_key IN (SELECT record_key FROM _closure)
UNION
SELECT person_key FROM core.person_key_registry
WHERE anchor_kind = 'record' AND anchor IN (SELECT record_key FROM _closure)
UNION
SELECT g.person_key FROM core.person_key_registry g
JOIN scratch.link_records i ON g.anchor_kind = 'id' AND g.anchor = i.id_number AND i.id_valid
WHERE i.record_key IN (SELECT record_key FROM _closure);

CREATE OR REPLACE TEMP TABLE _closure_next AS
SELECT record_key FROM _closure
UNION
SELECT record_key FROM core.person_links WHERE person_key IN (SELECT person_key FROM _closure_keys)
UNION
SELECT anchor FROM core.person_key_registry
WHERE anchor_kind = 'record' AND person_key IN (SELECT person_key FROM _closure_keys)
UNION
SELECT i.record_key FROM scratch.link_records i
JOIN core.person_key_registry g ON g.anchor_kind = 'id' AND g.anchor = i.id_number
WHERE i.id_valid AND g.person_key IN (SELECT person_key FROM _closure_keys)
UNION
SELECT record_key FROM identity_reached('_invalid', '_closure_invalid');

CREATE OR REPLACE TEMP TABLE _closure_grew AS
SELECT (SELECT count(*) FROM _closure_next) - (SELECT count(*) FROM _closure) AS n;

CREATE OR REPLACE TEMP TABLE _closure AS SELECT * FROM _closure_next;
DROP TABLE _closure_next;
DROP TABLE _closure_keys;
