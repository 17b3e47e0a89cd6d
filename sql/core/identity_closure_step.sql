-- One widening of the dirty closure (identity_closure.sql) from its records added last (_frontier); run until
-- _closure_grew is 0. Adds:
-- - every record of the persons those records belonged to (a person's links, key and golden record are decided
--   together), and the keys anchored on their records or IDs with every record anchored on them
--   (identity_keys.sql: a contested key goes to one claimant; all claimants must be decided together);
-- - every record without a valid ID blocked with one of those without a valid ID (records without a valid ID
--   decide each other: components, identity_components_step.sql).
CREATE OR REPLACE TEMP TABLE _closure_invalid AS SELECT * FROM _invalid SEMI JOIN _frontier USING (record_key);

CREATE OR REPLACE TEMP TABLE _closure_keys AS
SELECT person_key FROM core.person_links
WHERE person_key IS NOT NULL AND record_key IN (SELECT record_key FROM _frontier)
UNION
SELECT person_key FROM core.person_key_registry
WHERE anchor_kind = 'record' AND anchor IN (SELECT record_key FROM _frontier)
UNION
SELECT g.person_key FROM core.person_key_registry g
JOIN scratch.link_records i ON g.anchor_kind = 'id' AND g.anchor = i.id_number AND i.id_valid
WHERE i.record_key IN (SELECT record_key FROM _frontier);

CREATE OR REPLACE TEMP TABLE _frontier AS
(SELECT record_key FROM core.person_links WHERE person_key IN (SELECT person_key FROM _closure_keys)
 UNION
 SELECT anchor FROM core.person_key_registry
 WHERE anchor_kind = 'record' AND person_key IN (SELECT person_key FROM _closure_keys)
 UNION
 SELECT i.record_key FROM scratch.link_records i
 JOIN core.person_key_registry g ON g.anchor_kind = 'id' AND g.anchor = i.id_number
 WHERE i.id_valid AND g.person_key IN (SELECT person_key FROM _closure_keys)
 UNION
 SELECT record_key FROM identity_blocked('_invalid', '_closure_invalid'))
EXCEPT
SELECT record_key FROM _closure;

CREATE OR REPLACE TEMP TABLE _closure_grew AS SELECT count(*) AS n FROM _frontier;

INSERT INTO _closure SELECT record_key FROM _frontier;
DROP TABLE _closure_keys;
