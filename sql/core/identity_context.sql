-- The closed dirty closure (identity_closure*.sql) and what its decisions read: scratch.link_records is made of
-- them alone (from _link_inputs, every record's row), and the decision passes (pipelines/identity/link.py decide)
-- run on that. Decisions read:
-- - the identified records a closure record without a valid ID reaches (its profiles; those it is blocked with
--   without a valid ID are in the closure already);
-- - for a profile without a house among them, the same person's records with a house (they can hide it:
--   identity_candidates.sql), and whether unresolved records outside the closure reach them (_reach_outside;
--   an unresolved record outside the closure is one the last run left unresolved: its decision stands);
-- - the valid IDs one typo from the IDs of all these (the mistyped-ID rule).
-- These still scan every record's row (_link_inputs, a stored table) for the few that share a blocking key, typo
-- variant or profile with the closure: no index of those keys is kept across builds (it would be a second copy of
-- core.link_inputs, kept up to date on every build, to save scans of a few columns).
CREATE OR REPLACE TEMP TABLE _closure_invalid AS SELECT * FROM _invalid SEMI JOIN _closure USING (record_key);

-- Outside the closure only identified records are read: a valid ID, or a mistyped-ID link of the last run (a
-- record whose typo link can change is in the closure). A record outside it left unresolved must not be decided
-- again here: it would found persons and take keys a full run does not give it.
-- A view, not a copy: it is most of the store, read twice below.
CREATE OR REPLACE TEMP VIEW _identified AS
SELECT * FROM _link_inputs WHERE id_valid
UNION ALL
SELECT i.* FROM _link_inputs i
SEMI JOIN (SELECT record_key FROM core.person_links WHERE rule = 'id_typo') t USING (record_key)
ANTI JOIN _closure c USING (record_key)
WHERE NOT i.id_valid;

CREATE OR REPLACE TEMP TABLE _context AS
SELECT record_key FROM identity_reached('_identified', '_closure_invalid')
UNION
SELECT record_key FROM _closure;

CREATE OR REPLACE TEMP TABLE _context_housed AS
SELECT q.* FROM _identified q
SEMI JOIN (SELECT r.name, r.birth_date, r.sex FROM _link_inputs r SEMI JOIN _context USING (record_key)
           WHERE r.house_code IS NULL) p
    ON p.name = q.name AND p.birth_date = q.birth_date AND p.sex IS NOT DISTINCT FROM q.sex
WHERE q.house_code IS NOT NULL;

CREATE OR REPLACE TEMP TABLE _outside AS
SELECT i.* FROM _invalid i
ANTI JOIN _closure c USING (record_key)
ANTI JOIN (SELECT record_key FROM core.person_links WHERE rule = 'id_typo') t USING (record_key);

CREATE OR REPLACE TEMP TABLE _reach_outside AS
SELECT record_key FROM identity_reached('_context_housed', '_outside');

INSERT INTO _context SELECT record_key FROM _context_housed;

CREATE OR REPLACE TEMP TABLE _context_ids AS
SELECT record_key, id_number FROM _link_inputs SEMI JOIN _context USING (record_key) WHERE NOT id_valid;

INSERT INTO _context
SELECT i.record_key FROM identity_id_variants('_context_ids') v
JOIN _link_inputs i ON i.id_valid AND i.id_number = v.variant;

DROP VIEW _identified;
CREATE OR REPLACE TABLE scratch.link_records AS
SELECT * EXCLUDE (street_code) FROM _link_inputs SEMI JOIN (SELECT DISTINCT record_key FROM _context) c USING (record_key);

DROP TABLE _context;
DROP TABLE _context_housed;
DROP TABLE _context_ids;
DROP TABLE _outside;
DROP TABLE _closure_invalid;
