-- core.evidence for the persons a batch can change (an incremental build, pipelines/status/delta.py), before
-- the rows are replaced: core.evidence still holds what the last build wrote, core.person_links and
-- core.person_records what this build decided.
--
-- A person's evidence rows are a function of their links (record_id, record_key → person_key), of each linked
-- record's row and of its batch. For a record of an earlier batch the row can change only through its house
-- (core.houses and core.address_matches are rebuilt from every batch) — the rest comes from staging and
-- raw.batches, which change only with a steward's fix or new code, and either makes the build a full one.
-- So the persons to rebuild are those with a link added or removed (a new record, a merge, a split, a key
-- moved: both the old and the new key) and those with a record whose house changed. The set is written to
-- scratch.person_delta: person_status (core/person_status_delta.sql) starts from it and drops it.
-- A link row can have changed only if a linkage run since the last evidence build replaced it: identity hands those
-- records on in scratch.link_delta (a NULL row: a full run, any may have; pipelines/status/__init__.py puts one
-- there when no run said), so the links of the other records are not read.
CREATE OR REPLACE TEMP TABLE _links_changed AS SELECT DISTINCT record_key FROM scratch.link_delta;
SET VARIABLE links_all = (SELECT count(*) FILTER (WHERE record_key IS NULL) > 0 FROM _links_changed);

CREATE OR REPLACE TABLE scratch.person_delta AS
WITH now_links AS (
    SELECT record_id, record_key, person_key FROM core.person_links l
    WHERE person_key IS NOT NULL
      AND (getvariable('links_all') OR EXISTS (SELECT 1 FROM _links_changed c WHERE c.record_key = l.record_key))
),
was_links AS (
    SELECT DISTINCT record_id, record_key, person_key FROM core.evidence e
    WHERE getvariable('links_all') OR EXISTS (SELECT 1 FROM _links_changed c WHERE c.record_key = e.record_key)
),
moved AS (
    (SELECT * FROM now_links EXCEPT SELECT * FROM was_links)
    UNION ALL
    (SELECT * FROM was_links EXCEPT SELECT * FROM now_links)
),
-- A record's house changes only where core.person_records built its row again (scratch.record_delta: new batches,
-- re-matched or re-stated houses). With variable records_handed, TEMP _records_handed holds that set, the one right
-- after the one the last evidence build read (pipelines/status/__init__.py), and only its records are compared;
-- else every record is.
records AS (
    SELECT record_id, coalesce(house_code, stated_house_code) AS house_code FROM core.person_records
    WHERE getvariable('records_handed') IS NOT TRUE
    UNION ALL
    SELECT r.record_id, coalesce(r.house_code, r.stated_house_code) FROM core.person_records r
    WHERE getvariable('records_handed') AND r.record_id IN (SELECT record_id FROM _records_handed)
),
rehoused AS (
    SELECT e.person_key
    FROM core.evidence e JOIN records r USING (record_id)
    WHERE e.house_code IS DISTINCT FROM r.house_code
)
SELECT DISTINCT person_key FROM (SELECT person_key FROM moved UNION ALL SELECT person_key FROM rehoused);

INSERT INTO _evidence_delta SELECT person_key FROM scratch.person_delta;

DELETE FROM core.evidence WHERE person_key IN (SELECT person_key FROM _evidence_delta);
INSERT INTO core.evidence SELECT * FROM evidence_rows;
DROP VIEW evidence_rows;
DROP TABLE _evidence_delta;
DROP TABLE _links_changed;
