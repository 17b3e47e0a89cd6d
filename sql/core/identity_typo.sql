-- A mistyped ID: an invalid 18-character ID one substitution or one adjacent swap away from
-- exactly one valid ID whose person has the same name or a name with the same pinyin.
-- The failed ID itself is never used as a key. Its variants: identity_id_variants (identity_macros.sql).
CREATE OR REPLACE TEMP TABLE _typo_bad AS
SELECT record_key, id_number, name, pinyin
FROM scratch.link_records
WHERE NOT id_valid AND regexp_full_match(id_number, '[0-9]{17}[0-9X]') AND name IS NOT NULL;

CREATE OR REPLACE TEMP TABLE _typo_hits AS
SELECT DISTINCT v.record_key, b.name, b.pinyin, v.variant
FROM identity_id_variants('_typo_bad') v
JOIN _typo_bad b USING (record_key)
SEMI JOIN (SELECT id_number FROM scratch.link_records WHERE id_valid) n ON n.id_number = v.variant;

INSERT INTO _link
SELECT h.record_key, any_value(n.id_number), 'id_typo', NULL, NULL, any_value(n.id_number),
       'id:' || any_value(n.id_number)
FROM _typo_hits h
JOIN scratch.link_records n ON n.id_valid AND n.id_number = h.variant AND (n.name = h.name OR n.pinyin = h.pinyin)
GROUP BY h.record_key
HAVING count(DISTINCT n.id_number) = 1;

DROP TABLE _typo_hits;
DROP TABLE _typo_bad;
