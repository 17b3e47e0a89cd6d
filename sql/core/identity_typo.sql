-- A mistyped ID: an invalid 18-character ID one substitution or one adjacent swap away from
-- exactly one valid ID whose person has the same name or a name with the same pinyin.
-- The failed ID itself is never used as a key.
-- The ≈ 200 variants per failed ID are streamed against the valid IDs, never stored: at city scale
-- they are a hundred million rows, and only a handful per record are anyone's ID.
CREATE OR REPLACE TEMP TABLE _typo_hits AS
WITH bad AS (
    SELECT record_key, id_number, name, pinyin
    FROM scratch.link_records
    WHERE NOT id_valid AND regexp_full_match(id_number, '[0-9]{17}[0-9X]') AND name IS NOT NULL
),
substituted AS (
    SELECT b.*, substr(b.id_number, 1, pos - 1) || c || substr(b.id_number, pos + 1) AS variant
    FROM bad b,
         range(1, 19) AS t(pos),
         unnest(['0','1','2','3','4','5','6','7','8','9','X']) AS u(c)
    WHERE c <> substr(b.id_number, pos, 1) AND (pos = 18 OR c <> 'X')
),
swapped AS (
    SELECT b.*, substr(b.id_number, 1, pos - 1) || substr(b.id_number, pos + 1, 1)
                || substr(b.id_number, pos, 1) || substr(b.id_number, pos + 2) AS variant
    FROM bad b, range(1, 18) AS t(pos)
    WHERE substr(b.id_number, pos, 1) <> substr(b.id_number, pos + 1, 1)
),
variants AS (
    SELECT record_key, name, pinyin, variant FROM substituted
    UNION ALL
    SELECT record_key, name, pinyin, variant FROM swapped
)
SELECT DISTINCT v.record_key, v.name, v.pinyin, v.variant
FROM variants v
SEMI JOIN (SELECT id_number FROM scratch.link_records WHERE id_valid) n ON n.id_number = v.variant;

INSERT INTO _link
SELECT h.record_key, any_value(n.id_number), 'id_typo', NULL, NULL, any_value(n.id_number),
       'id:' || any_value(n.id_number)
FROM _typo_hits h
JOIN scratch.link_records n ON n.id_valid AND n.id_number = h.variant AND (n.name = h.name OR n.pinyin = h.pinyin)
GROUP BY h.record_key
HAVING count(DISTINCT n.id_number) = 1;

DROP TABLE _typo_hits;
