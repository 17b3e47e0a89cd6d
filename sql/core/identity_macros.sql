-- Character-level comparisons for Chinese names. DuckDB's levenshtein counts UTF-8 bytes,
-- so names are compared as VARCHAR[] of characters (str_split(name, '')).

-- True when two character lists differ by at most one substitution, insertion, deletion
-- or swap of adjacent characters (Damerau–Levenshtein distance <= 1).
CREATE OR REPLACE TEMP MACRO identity_chars_within1(a, b) AS (
    CASE
        WHEN len(a) = len(b) THEN
            len(list_filter(range(1, len(a) + 1), lambda i: a[i] <> b[i])) <= 1
            OR (len(list_filter(range(1, len(a) + 1), lambda i: a[i] <> b[i])) = 2
                AND list_bool_or(list_transform(range(1, len(a)),
                    lambda i: a[i] <> b[i] AND a[i] = b[i + 1] AND a[i + 1] = b[i])))
        WHEN len(a) = len(b) + 1 THEN
            list_bool_or(list_transform(range(1, len(a) + 1),
                lambda i: list_concat(a[1:i - 1], a[i + 1:]) = b))
        WHEN len(b) = len(a) + 1 THEN
            list_bool_or(list_transform(range(1, len(b) + 1),
                lambda i: list_concat(b[1:i - 1], b[i + 1:]) = a))
        ELSE false
    END
);

-- True when two dates differ in at most one digit (or one adjacent swap) as written YYYYMMDD:
-- 1968-05-03 and 1998-05-03, a year typed wrong.
CREATE OR REPLACE TEMP MACRO identity_dates_within1(a, b) AS (
    damerau_levenshtein(strftime(a, '%Y%m%d'), strftime(b, '%Y%m%d')) <= 1
);

-- Two records of one household rather than one person: same house, birth dates equal or a digit
-- apart, and given names that differ beyond a homophone (identity.yaml, household_guard). Returns the
-- reason ('likely_twin' / 'household_member') or NULL. The given name is what follows the surname
-- (as many characters as the surname has syllables, compound surnames included): twins share the
-- surname and often one character of the given name (张子涵 / 张子轩), so the full names are only one
-- character apart, while 张伟 / 李伟 at one house and birth date is one person with a mistyped surname.
CREATE OR REPLACE TEMP MACRO identity_household_guard(name_chars_l, name_chars_r, pinyin_l, pinyin_r,
                                                     surname_pinyin_l, surname_pinyin_r,
                                                     birth_date_l, birth_date_r, house_code_l, house_code_r) AS (
    CASE WHEN house_code_l = house_code_r
          AND name_chars_l[len(str_split(surname_pinyin_l, ' ')) + 1:]
              <> name_chars_r[len(str_split(surname_pinyin_r, ' ')) + 1:]
          AND substr(pinyin_l, length(surname_pinyin_l) + 2) IS DISTINCT FROM substr(pinyin_r, length(surname_pinyin_r) + 2)
         THEN CASE WHEN birth_date_l = birth_date_r THEN 'likely_twin'
                   WHEN identity_dates_within1(birth_date_l, birth_date_r) THEN 'household_member' END
    END
);

-- Birth date written in an ID that failed validation (check digit, region): still a useful
-- hint for matching, never a key on its own.
CREATE OR REPLACE TEMP MACRO identity_id_birth_hint(id) AS (
    CASE WHEN regexp_full_match(id, '[0-9]{17}[0-9X]')
         THEN try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE END
);

-- What linkage reads of each row of table `records` (core.person_records' columns): its name forms and link fields,
-- one row per record (scratch.link_records, identity_records.sql; or an incremental run's seeds only,
-- identity_seeds_handed.sql).
CREATE OR REPLACE TEMP MACRO identity_link_rows(records) AS TABLE
SELECT
    r.record_key,
    r.record_id,
    r.template,
    nullif(r.name, '') AS name,
    p.pinyin,
    p.surname_pinyin,
    r.id_number,
    coalesce(r.id_valid, false) AND r.id_number IS NOT NULL AS id_valid,
    coalesce(r.birth_date, CASE WHEN NOT coalesce(r.id_valid, false)
                                THEN identity_id_birth_hint(r.id_number) END) AS birth_date,
    r.sex,
    r.house_code,
    r.event_date
FROM query_table(records) r
LEFT JOIN core.identity_name_pinyin p ON p.name = r.name;

-- Match probability of a match weight (log2 odds), as Splink reports it.
CREATE OR REPLACE TEMP MACRO identity_match_probability(w) AS (pow(2, w) / (1 + pow(2, w)));

-- The records of table `records` sharing a blocking key (sql/core/identity_candidates.sql) with a row of table
-- `probes`: same house, same name pinyin + birth year, or same birth date + surname pinyin (the street bound of
-- the name key left out: a superset of the records a probe can be compared with). What the probabilistic pass
-- collapses into profiles, and what an incremental linkage run widens its closure by (identity_closure*.sql).
-- (The exact blocking, street bound and all, is identity_blocked: sql/core/identity_blocking.sql.)
CREATE OR REPLACE TEMP MACRO identity_reached(records, probes) AS TABLE
SELECT r.* FROM query_table(records) r
WHERE r.house_code IN (SELECT house_code FROM query_table(probes))
   OR (r.pinyin, year(r.birth_date)) IN (SELECT (pinyin, year(birth_date)) FROM query_table(probes))
   OR (r.birth_date, r.surname_pinyin) IN (SELECT (birth_date, surname_pinyin) FROM query_table(probes));

-- Every ID one substitution or one adjacent swap away from the 18-character id_number of each row of table
-- `ids` (record_key, variant): the mistyped-ID rule's neighbours (identity_typo.sql; both ways, as the relation
-- is symmetric, for an incremental run's closure). ≈ 200 per ID, streamed into a join, never stored: at city
-- scale they are a hundred million rows, and only a handful per record are anyone's ID.
CREATE OR REPLACE TEMP MACRO identity_id_variants(ids) AS TABLE
WITH b AS (
    SELECT record_key, id_number FROM query_table(ids) WHERE regexp_full_match(id_number, '[0-9]{17}[0-9X]')
)
SELECT b.record_key, substr(b.id_number, 1, pos - 1) || c || substr(b.id_number, pos + 1) AS variant
FROM b, range(1, 19) AS t(pos), unnest(['0','1','2','3','4','5','6','7','8','9','X']) AS u(c)
WHERE c <> substr(b.id_number, pos, 1) AND (pos = 18 OR c <> 'X')
UNION ALL
SELECT b.record_key, substr(b.id_number, 1, pos - 1) || substr(b.id_number, pos + 1, 1)
                     || substr(b.id_number, pos, 1) || substr(b.id_number, pos + 2)
FROM b, range(1, 18) AS t(pos)
WHERE substr(b.id_number, pos, 1) <> substr(b.id_number, pos + 1, 1);
