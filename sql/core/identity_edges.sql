-- The edges an incremental run's closure widens by (identity_closure.sql, identity_closure_step.sql), between a
-- record and a person key as hashes: its link (core.person_links), a key anchored on it and a key anchored on its
-- valid ID (core.person_key_registry, identity_keys.sql). Made whole here from a run's tables (after a full run, or
-- before an incremental one when missing); kept across runs and brought up to date by each incremental run
-- (identity_closure.sql: the keys anchored on its seeds' IDs; identity_edges_add.sql: its new links and keys). It
-- then holds every edge a whole build would, and possibly edges no longer true (a link since moved, a record
-- gone): those only widen a closure, which is decided as exactly. Reads _link_inputs (every record's row).
CREATE OR REPLACE TABLE scratch.link_edges AS
SELECT hash(record_key) AS rk, hash(person_key) AS pk FROM core.person_links WHERE person_key IS NOT NULL
UNION ALL
SELECT hash(anchor), hash(person_key) FROM core.person_key_registry WHERE anchor_kind = 'record'
UNION ALL
SELECT hash(i.record_key), hash(g.person_key)
FROM core.person_key_registry g JOIN _link_inputs i ON g.anchor_kind = 'id' AND g.anchor = i.id_number
WHERE i.id_valid;
