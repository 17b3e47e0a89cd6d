-- An incremental linkage run's tables: the rows of the closure's records and of the persons they belonged or
-- belong to replaced, every other row kept (what they hold: identity_publish.sql). A closure record that is gone
-- (core.link_inputs no longer lists it) loses its rows.
DELETE FROM core.person_links WHERE record_key IN (SELECT record_key FROM _closure);
INSERT INTO core.person_links SELECT record_key, record_id, person_key, rule, score FROM scratch.link_final;

DELETE FROM core.persons WHERE person_key IN (SELECT person_key FROM _persons_changed);
INSERT INTO core.persons SELECT * FROM _persons_new;

DELETE FROM core.link_candidates WHERE record_key IN (SELECT record_key FROM _closure);
INSERT INTO core.link_candidates SELECT * FROM _candidates_new;

DELETE FROM core.link_comparisons WHERE record_key IN (SELECT record_key FROM _closure);
INSERT INTO core.link_comparisons SELECT * FROM _comparisons_new;

-- The records whose link rows this run replaced, for core/evidence_delta.sql (the persons whose evidence can
-- change): added to those of earlier runs whose evidence was not built since (core/evidence drops the table once
-- it has read it).
CREATE TABLE IF NOT EXISTS scratch.link_delta (record_key VARCHAR);
INSERT INTO scratch.link_delta SELECT record_key FROM _closure;
