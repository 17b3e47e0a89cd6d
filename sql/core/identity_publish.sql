-- Publish the run: person_links, persons, link_candidates, and the merge_log of changes. This file decides
-- what they hold; identity_publish_full.sql writes them whole, identity_publish_delta.sql (an incremental run,
-- variable identity_delta: scratch.link_records holds the closure's records only) replaces the closure's rows.
-- Variables: run_date, max_candidates, cannot_found_person, identity_delta.
-- A record with a valid ID and no row in _link is id_exact (as in _link_all, spelled out here so
-- the join to _link stays a small build side instead of the whole population).
CREATE OR REPLACE TABLE scratch.link_final AS
SELECT
    i.record_key,
    i.record_id,
    a.person_key,
    coalesce(l.rule,
             CASE WHEN i.id_valid THEN 'id_exact'
                  WHEN m.record_key IS NOT NULL THEN 'ambiguous'
                  WHEN list_contains(getvariable('cannot_found_person'), i.template) THEN 'unmatched'
                  ELSE 'unlinkable' END) AS rule,
    l.score,
    l.matched_record_key,
    CASE WHEN l.record_key IS NULL AND i.id_valid THEN i.id_number ELSE l.matched_id_number END AS matched_id_number,
    i.name, i.id_number, i.id_valid, i.birth_date, i.sex,
    hash(i.record_key) AS record_hash, i.event_date
FROM scratch.link_records i
LEFT JOIN _link l USING (record_key)
LEFT JOIN scratch.link_keys a
    ON a.cluster_id = coalesce(l.cluster_id, CASE WHEN i.id_valid THEN 'id:' || i.id_number END)
LEFT JOIN _ambiguous m USING (record_key);

CREATE TABLE IF NOT EXISTS core.person_links (
    record_key VARCHAR, record_id BIGINT, person_key VARCHAR, rule VARCHAR, score DOUBLE);
CREATE TABLE IF NOT EXISTS core.merge_log (
    person_key VARCHAR, record_key VARCHAR, rule VARCHAR, score DOUBLE,
    matched_record_key VARCHAR, matched_id_number VARCHAR, run_date DATE);

-- The log records each change of a record's person or rule, so re-running is silent and a
-- new batch logs only what it changed.
INSERT INTO core.merge_log
SELECT f.person_key, f.record_key, f.rule, f.score, f.matched_record_key, f.matched_id_number,
       getvariable('run_date')
FROM scratch.link_final f
LEFT JOIN core.person_links o USING (record_id)
WHERE o.record_key IS NULL
   OR o.person_key IS DISTINCT FROM f.person_key
   OR o.rule IS DISTINCT FROM f.rule;

-- The links an incremental run adds to its closure's edges (identity_edges_add.sql): new, or to another person
-- (read before core.person_links is replaced).
CREATE OR REPLACE TEMP TABLE _links_moved AS
SELECT f.record_key, f.person_key
FROM scratch.link_final f
LEFT JOIN (SELECT record_key, person_key FROM core.person_links
           WHERE getvariable('identity_delta') AND record_key IN (SELECT record_key FROM _closure)) o USING (record_key)
WHERE getvariable('identity_delta') AND f.person_key IS NOT NULL AND o.person_key IS DISTINCT FROM f.person_key;

-- The persons whose row is written again: every one on a full run; on an incremental run every person a
-- closure record belonged or belongs to (read before core.person_links is replaced).
CREATE OR REPLACE TEMP TABLE _persons_changed AS
SELECT person_key FROM core.person_links
WHERE getvariable('identity_delta') AND person_key IS NOT NULL AND record_key IN (SELECT record_key FROM _closure)
UNION
SELECT person_key FROM scratch.link_final WHERE getvariable('identity_delta') AND person_key IS NOT NULL;

-- A person's records as its golden row reads them: this run's on a full run; on an incremental run every
-- record of the changed persons, closure or not (core.link_inputs holds every record's fields, core.person_links
-- its link, read after the closure's links are written).
CREATE TABLE IF NOT EXISTS core.link_inputs AS SELECT * FROM _link_inputs LIMIT 0;
CREATE OR REPLACE TEMP VIEW _person_input AS
SELECT person_key, rule, name, id_number, id_valid, birth_date, sex, record_hash, event_date
FROM scratch.link_final WHERE person_key IS NOT NULL AND NOT getvariable('identity_delta')
UNION ALL
SELECT l.person_key, l.rule, i.name, i.id_number, i.id_valid, i.birth_date, i.sex, hash(i.record_key), i.event_date
FROM core.person_links l JOIN core.link_inputs i USING (record_key)
WHERE getvariable('identity_delta') AND l.person_key IN (SELECT person_key FROM _persons_changed);

-- Which record speaks for the person: one with the valid ID first, then the most recent;
-- no event date (the hukou register) counts as newest, as the register holds the official
-- name. Ties by a hash of record_key. Packed in one HUGEINT (flag << 100 | day << 64 | hash; rank_day:
-- sql/macros/keys.sql):
-- arg_max over a struct key is five times slower.
CREATE OR REPLACE TEMP VIEW _persons_new AS
WITH k AS (
    SELECT person_key, rule, name, id_number, id_valid, birth_date, sex,
           (coalesce(rank_day(event_date), 1000000000)::HUGEINT << 64)
           + record_hash AS recency
    FROM _person_input
)
SELECT
    person_key,
    -- The name as written with the valid ID, most recently; else the most recent name.
    arg_max(name, ((id_valid AND rule = 'id_exact')::HUGEINT << 100) + recency)
        FILTER (WHERE name IS NOT NULL) AS name,
    max(id_number) FILTER (WHERE id_valid) AS id_number,
    arg_max(birth_date, (id_valid::HUGEINT << 100) + recency) FILTER (WHERE birth_date IS NOT NULL) AS birth_date,
    arg_max(sex, (id_valid::HUGEINT << 100) + recency) FILTER (WHERE sex IS NOT NULL) AS sex,
    count(*) AS n_records
FROM k
GROUP BY person_key;

-- Candidates for the stewards: for a record left unlinked, the persons its scored pairs point to; for a
-- record the household guard kept apart (its person known only from records, so nothing but the guard
-- decided), the household member it resembles, with the guard's reason. A guarded pair of two such
-- records is asked once, from its larger record. The other record's person is read from core.person_links as
-- this run left it (on an incremental run the other record may lie outside the closure).
CREATE OR REPLACE TEMP VIEW _candidates_new AS
WITH asked AS (
    -- two branches, not one OR: each keeps its filter ahead of the join to the whole link_final
    SELECT s.*, f.person_key
    FROM _pair_sides s JOIN scratch.link_final f ON f.record_key = s.record_key
    WHERE f.person_key IS NULL
    UNION ALL
    SELECT s.*, f.person_key
    FROM (SELECT * FROM _pair_sides WHERE guard IS NOT NULL) s
    JOIN _link fl ON fl.record_key = s.record_key AND starts_with(fl.cluster_id, 'rec:')
    JOIN scratch.link_final f ON f.record_key = s.record_key
    LEFT JOIN _link ol ON ol.record_key = s.other_key
    WHERE NOT starts_with(coalesce(ol.cluster_id, 'id:'), 'rec:') OR s.record_key > s.other_key
), per_person AS (
    SELECT a.record_key, o.person_key, a.other_key, a.match_probability, a.match_weight, a.guard AS reason
    FROM asked a
    JOIN core.person_links o ON o.record_key = a.other_key
    WHERE o.person_key IS NOT NULL AND o.person_key IS DISTINCT FROM a.person_key
    QUALIFY row_number() OVER (PARTITION BY a.record_key, o.person_key
                               ORDER BY a.match_weight DESC, a.other_key) = 1
)
SELECT
    record_key,
    rank,
    person_key AS candidate_person_key,
    other_key AS candidate_record_key,
    match_probability,
    match_weight,
    reason
FROM (
    SELECT *, row_number() OVER (PARTITION BY record_key ORDER BY match_weight DESC, person_key) AS rank
    FROM per_person
)
WHERE rank <= getvariable('max_candidates');

-- Every probabilistic link and every candidate as the model weighed it at link time: the level each
-- comparison reached (levels, in the order of identity.yaml), read with core.link_levels (the model of this
-- run, written beside it) through the view core.link_comparison_levels: per comparison its level, m, u and
-- weight (log2 m/u), the prior first, summing to the pair's match weight. role: 'link' (the pair that decided
-- the record's person) or 'candidate'. Read by `onceonly explain`; never recomputed later. A few bytes a
-- pair: spelled out as rows of text, a city's links took longer to write than to decide.
CREATE TABLE IF NOT EXISTS core.link_candidates AS SELECT * FROM _candidates_new LIMIT 0;
CREATE OR REPLACE TEMP VIEW _comparisons_new AS
WITH wanted AS (
    SELECT record_key, matched_record_key AS other_key, 'link' AS role
    FROM _link WHERE score IS NOT NULL AND matched_record_key IS NOT NULL
    UNION ALL
    SELECT record_key, candidate_record_key, 'candidate' FROM core.link_candidates
    WHERE NOT getvariable('identity_delta') OR record_key IN (SELECT record_key FROM _closure)
)
SELECT w.record_key, w.other_key AS other_record_key, w.role,
       identity_match_levels(
           l.name, r.name, l.name_chars, r.name_chars, l.pinyin, r.pinyin,
           l.surname_pinyin, r.surname_pinyin, l.birth_date, r.birth_date, l.birth_year, r.birth_year,
           l.sex, r.sex, l.house_code, r.house_code) AS levels
FROM wanted w
JOIN _block_side l ON l.record_key = w.record_key
JOIN _block_side r ON r.record_key = w.other_key;
