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

-- Birth date written in an ID that failed validation (check digit, region): still a useful
-- hint for matching, never a key on its own.
CREATE OR REPLACE TEMP MACRO identity_id_birth_hint(id) AS (
    CASE WHEN regexp_full_match(id, '[0-9]{17}[0-9X]')
         THEN try_strptime(substr(id, 7, 8), '%Y%m%d')::DATE END
);

-- Match probability of a match weight (log2 odds), as Splink reports it.
CREATE OR REPLACE TEMP MACRO identity_match_probability(w) AS (pow(2, w) / (1 + pow(2, w)));
