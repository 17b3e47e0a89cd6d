-- An incremental linkage run (pipelines/identity/link.py, docs/architecture.md "Incremental builds"): the records
-- whose decision a new batch can change — the dirty closure. Starts here from the seeds; identity_closure_step.sql
-- widens it until it is closed; identity_context.sql then cuts scratch.link_records down to the closure and what
-- its decisions read. Reads the seeds (_seed_rows: identity_seeds_handed.sql, else identity_seeds_compared.sql),
-- _link_inputs (every record's row, this run: core.link_inputs, which the seeds' file brought up to date),
-- core.person_links and core.person_key_registry (what the last run decided).

-- Records without a valid ID: the only ones whose decision reads other records (a valid ID decides alone).
-- closure_h: the hash the widening rounds know a record by (below).
CREATE OR REPLACE TEMP TABLE _invalid AS SELECT *, hash(record_key) AS closure_h FROM _link_inputs WHERE NOT id_valid;

-- Records whose mistyped-ID decision a seed can change: one typo from a seed's ID, either version (a new
-- valid ID can make a typo link, or make it ambiguous; a changed name can make or break one).
-- (The relation is symmetric: the variants of the few mistyped IDs are joined to the seeds' IDs.)
CREATE OR REPLACE TEMP TABLE _typo_partners AS
SELECT DISTINCT i.record_key, i.name, i.pinyin, i.surname_pinyin, i.birth_date, i.sex, i.house_code, i.street_code
FROM identity_id_variants('_invalid') v
SEMI JOIN _seed_rows s ON s.id_number = v.variant
JOIN _invalid i ON i.record_key = v.record_key;

-- Records whose being unresolved or identified may change (seeds, typo partners) change which identified
-- records are reached, and so whether a profile without a house is hidden by the same person's profile with
-- one (identity_candidates.sql): the records without a valid ID that reach such a houseless record are dirty.
CREATE OR REPLACE TEMP TABLE _changers AS
SELECT name, pinyin, surname_pinyin, birth_date, sex, house_code, street_code FROM _seed_rows
UNION ALL
SELECT name, pinyin, surname_pinyin, birth_date, sex, house_code, street_code FROM _typo_partners;

CREATE OR REPLACE TEMP TABLE _houseless AS
WITH housed AS (
    SELECT name, birth_date, sex FROM identity_reached('_link_inputs', '_changers') WHERE house_code IS NOT NULL
    UNION
    SELECT name, birth_date, sex FROM _changers WHERE house_code IS NOT NULL
)
SELECT r.* FROM _link_inputs r
SEMI JOIN housed q ON q.name = r.name AND q.birth_date = r.birth_date AND q.sex IS NOT DISTINCT FROM r.sex
WHERE r.house_code IS NULL;

-- The seeds' records, their typo partners, and every record without a valid ID blocked with a seed (either
-- version), a typo partner or such a houseless record: its scored pairs may change.
CREATE OR REPLACE TEMP TABLE _closure AS
SELECT DISTINCT record_key FROM (
    SELECT record_key FROM _seed_rows
    UNION ALL
    SELECT record_key FROM _typo_partners
    UNION ALL
    SELECT record_key FROM identity_blocked('_invalid', '_changers')
    UNION ALL
    SELECT record_key FROM identity_blocked('_invalid', '_houseless')
);

-- The widening rounds (identity_closure_step.sql) work on hashes of record keys (UBIGINT; two keys of one hash
-- only widen the closure, and a wider closure is decided as exactly) and read one narrow table instead of scanning
-- person_links, the key registry and every record's ID each round: the edges between a record and a person key —
-- its link, a key anchored on it, a key anchored on its valid ID (identity_keys.sql). Kept across runs
-- (scratch.link_edges, identity_edges.sql says how it holds every edge of the last run's tables); the keys
-- anchored on the seeds' IDs are added here (a seed's row is new to it).
INSERT INTO scratch.link_edges
SELECT hash(i.record_key), hash(g.person_key)
FROM core.person_key_registry g JOIN _seed_rows i ON g.anchor_kind = 'id' AND g.anchor = i.id_number
WHERE i.id_valid;
CREATE OR REPLACE TEMP VIEW _closure_edges AS SELECT rk, pk FROM scratch.link_edges;

CREATE OR REPLACE TEMP TABLE _closure AS SELECT DISTINCT hash(record_key) AS h FROM _closure;
CREATE OR REPLACE TEMP TABLE _frontier AS SELECT h FROM _closure;

DROP TABLE _typo_partners;
DROP TABLE _changers;
DROP TABLE _houseless;
