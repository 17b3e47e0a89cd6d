-- Blocking for the probabilistic pass: which pairs Splink scores. Each undecided record is
-- compared with identified records and other undecided records sharing one of the keys
--   same house; same name pinyin + birth year; same birth date + surname pinyin.
-- Pairs of two identified records are never formed (their IDs decide them), so the work
-- grows with the undecided records, not with the population.
CREATE OR REPLACE TEMP TABLE _unresolved AS
SELECT i.* FROM _idr i ANTI JOIN _link l ON l.record_key = i.record_key;

-- Identified records collapsed to distinct profiles: a person seen ten times at the same
-- house under the same name is one comparison, not ten.
CREATE OR REPLACE TEMP TABLE _profiles AS
SELECT
    min(i.record_key) AS record_key,
    l.id_anchor,
    i.name, i.name_chars, i.pinyin, i.surname_pinyin, i.birth_date, i.sex, i.house_code
FROM _link l JOIN _idr i USING (record_key)
GROUP BY ALL;

-- A profile without a house adds nothing when the same person has the same profile with one
-- (a hukou row next to the residents row): it would only double the name-based pairs.
DELETE FROM _profiles p
WHERE p.house_code IS NULL AND EXISTS (
    SELECT 1 FROM _profiles q
    WHERE q.id_anchor = p.id_anchor AND q.house_code IS NOT NULL
      AND q.name IS NOT DISTINCT FROM p.name AND q.birth_date IS NOT DISTINCT FROM p.birth_date
      AND q.sex IS NOT DISTINCT FROM p.sex);

CREATE OR REPLACE TEMP TABLE _block_side AS
SELECT record_key, true AS resolved, name, name_chars, pinyin, surname_pinyin, birth_date,
       year(birth_date) AS birth_year, sex, house_code
FROM _profiles
UNION ALL
SELECT record_key, false, name, name_chars, pinyin, surname_pinyin, birth_date,
       year(birth_date), sex, house_code
FROM _unresolved;

CREATE OR REPLACE TEMP TABLE _blocked_pairs AS
WITH u AS (SELECT * FROM _block_side WHERE NOT resolved),
hits AS (
    SELECT '0' AS match_key, u.record_key AS a, s.record_key AS b
    FROM u JOIN _block_side s ON s.house_code = u.house_code
    WHERE s.resolved OR s.record_key > u.record_key
    UNION ALL
    SELECT '1', u.record_key, s.record_key
    FROM u JOIN _block_side s ON s.pinyin = u.pinyin AND s.birth_year = u.birth_year
    WHERE s.resolved OR s.record_key > u.record_key
    UNION ALL
    SELECT '2', u.record_key, s.record_key
    FROM u JOIN _block_side s ON s.birth_date = u.birth_date AND s.surname_pinyin = u.surname_pinyin
    WHERE s.resolved OR s.record_key > u.record_key
)
-- Splink's dedupe convention: the smaller unique id on the left.
SELECT min(match_key) AS match_key, least(a, b) AS join_key_l, greatest(a, b) AS join_key_r
FROM hits
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE _splink_input AS
SELECT s.* FROM _block_side s
SEMI JOIN (SELECT join_key_l AS k FROM _blocked_pairs UNION SELECT join_key_r FROM _blocked_pairs) p
    ON p.k = s.record_key;
DROP TABLE _block_side;
