-- Blocking and scoring for the probabilistic pass. Each undecided record is compared with
-- identified records and other undecided records sharing one of the keys
--   same house; same name pinyin + birth year (in the same street); same birth date + surname pinyin,
-- and each pair is scored with identity_match_weight (pipelines/identity/model.py, the
-- Fellegi–Sunter model of identity.yaml). Pairs of two identified records are never formed
-- (their IDs decide them), so the work grows with the undecided records, not the population.
-- Variables: candidate_floor.
-- Records with a valid ID are all decided (id_exact); of the rest only typo links are.
CREATE OR REPLACE TEMP TABLE _unresolved AS
SELECT i.* FROM scratch.link_records i
ANTI JOIN _link l ON l.record_key = i.record_key
WHERE NOT i.id_valid;

-- Identified records collapsed to distinct profiles: a person seen ten times at the same
-- house under the same name is one comparison, not ten. Only records sharing a blocking
-- key with an undecided record can ever be compared, so only those are collapsed (a few
-- percent of the population instead of all of it).
-- A record is identified by its valid ID or by a typo link (_link holds only those so far): the
-- small _link is joined, not _link_all, which would make the whole population a join's build side.
CREATE OR REPLACE TEMP TABLE _profiles AS
-- On an incremental run (identity_context.sql) _unresolved holds only the closure's records; the identified records
-- unresolved records outside it reach are named in _reach_outside (empty on a full run): they can still hide
-- a profile without a house (below), as on a full run.
WITH reachable AS (
    SELECT record_key, id_valid, id_number, name, pinyin, surname_pinyin, birth_date, sex, house_code
    FROM identity_reached('scratch.link_records', '_unresolved')
    UNION
    SELECT record_key, id_valid, id_number, name, pinyin, surname_pinyin, birth_date, sex, house_code
    FROM scratch.link_records SEMI JOIN _reach_outside USING (record_key)
), identified AS (
    SELECT r.*, CASE WHEN r.id_valid THEN r.id_number ELSE l.id_anchor END AS id_anchor
    FROM reachable r LEFT JOIN _link l USING (record_key)
    WHERE r.id_valid OR l.record_key IS NOT NULL
)
SELECT min(record_key) AS record_key, id_anchor, name, pinyin, surname_pinyin, birth_date, sex, house_code
FROM identified
GROUP BY id_anchor, name, pinyin, surname_pinyin, birth_date, sex, house_code;

-- A profile without a house adds nothing when the same person has the same profile with one
-- (a hukou row next to the residents row): it would only double the name-based pairs.
DELETE FROM _profiles p
WHERE p.house_code IS NULL AND EXISTS (
    SELECT 1 FROM _profiles q
    WHERE q.id_anchor = p.id_anchor AND q.house_code IS NOT NULL
      AND q.name IS NOT DISTINCT FROM p.name AND q.birth_date IS NOT DISTINCT FROM p.birth_date
      AND q.sex IS NOT DISTINCT FROM p.sex);

-- sid: a compact join key for the pair tables only; every decision orders by record_key.
-- street_code (of the record's house) bounds the name + birth-year key: a city holds hundreds of
-- 王伟 born in 1985, a street a handful, and pairs grow with the square of a block's size.
CREATE OR REPLACE TEMP TABLE _block_side AS
SELECT row_number() OVER () AS sid, b.*, str_split(b.name, '') AS name_chars, year(b.birth_date) AS birth_year,
       g.street_code
FROM (
    SELECT record_key, true AS resolved, name, pinyin, surname_pinyin, birth_date, sex, house_code
    FROM _profiles
    UNION ALL
    SELECT record_key, false, name, pinyin, surname_pinyin, birth_date, sex, house_code
    FROM _unresolved
) b
LEFT JOIN _house_street g ON g.house_code = b.house_code;

-- The keys are identity.yaml's `blocking` (identity_block_hits, sql/core/identity_blocking.sql): the same list decides
-- which records an incremental run's closure grows by (identity_blocked).
CREATE OR REPLACE TEMP TABLE _blocked_pairs AS
SELECT DISTINCT least(a, b) AS a, greatest(a, b) AS b FROM identity_block_hits('_block_side');

-- Scored pairs at or above the candidate floor, the smaller record_key on the left.
-- Every comparison level is symmetric, so which side is l does not change the weight.
-- rule: what a link decided by this pair is called (identity_link_rule: name_match only while the names
-- agree); guard: 'likely_twin' / 'household_member' when the pair looks like two members of one
-- household (identity_household_guard), which no score may merge. Both are computed only on the pairs
-- above the floor, a small share of those blocked.
CREATE OR REPLACE TEMP TABLE _pairs AS
SELECT record_key_l, record_key_r, match_weight, identity_match_probability(match_weight) AS match_probability,
       identity_link_rule(
           name_l, name_r, name_chars_l, name_chars_r, pinyin_l, pinyin_r,
           surname_pinyin_l, surname_pinyin_r, birth_date_l, birth_date_r, birth_year_l, birth_year_r,
           sex_l, sex_r, house_code_l, house_code_r) AS rule,
       identity_household_guard(
           name_chars_l, name_chars_r, pinyin_l, pinyin_r, surname_pinyin_l, surname_pinyin_r,
           birth_date_l, birth_date_r, house_code_l, house_code_r) AS guard
FROM (
    SELECT
        least(l.record_key, r.record_key) AS record_key_l,
        greatest(l.record_key, r.record_key) AS record_key_r,
        identity_match_weight(
            l.name, r.name, l.name_chars, r.name_chars, l.pinyin, r.pinyin,
            l.surname_pinyin, r.surname_pinyin, l.birth_date, r.birth_date, l.birth_year, r.birth_year,
            l.sex, r.sex, l.house_code, r.house_code) AS match_weight,
        l.name AS name_l, r.name AS name_r, l.name_chars AS name_chars_l, r.name_chars AS name_chars_r,
        l.pinyin AS pinyin_l, r.pinyin AS pinyin_r, l.surname_pinyin AS surname_pinyin_l,
        r.surname_pinyin AS surname_pinyin_r, l.birth_date AS birth_date_l, r.birth_date AS birth_date_r,
        l.birth_year AS birth_year_l, r.birth_year AS birth_year_r, l.sex AS sex_l, r.sex AS sex_r,
        l.house_code AS house_code_l, r.house_code AS house_code_r
    FROM _blocked_pairs p
    JOIN _block_side l ON l.sid = p.a
    JOIN _block_side r ON r.sid = p.b
)
WHERE identity_match_probability(match_weight) >= getvariable('candidate_floor');
