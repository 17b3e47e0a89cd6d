-- Working set for one linkage run: every person record with its name forms and link fields.
-- Kept narrow (no character lists): it is as long as core.person_records, so it is a scratch table.
CREATE OR REPLACE TABLE scratch.link_records AS
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
FROM core.person_records r
LEFT JOIN core.identity_name_pinyin p ON p.name = r.name;

-- Link decisions beyond the valid IDs, one row per decided record. cluster_id names the
-- person-to-be: `id:<valid ID>` or `rec:<founding record_key>` for a person known only from records.
-- Records with a valid ID (nine in ten) are decided by it (id_exact) and are not copied here:
-- _link_all adds them where every decision is needed.
CREATE OR REPLACE TEMP TABLE _link (
    record_key VARCHAR,
    id_anchor VARCHAR,
    rule VARCHAR,
    score DOUBLE,
    matched_record_key VARCHAR,
    matched_id_number VARCHAR,
    cluster_id VARCHAR
);

CREATE OR REPLACE TEMP VIEW _link_all AS
SELECT record_key, id_number AS id_anchor, 'id_exact' AS rule, NULL::DOUBLE AS score,
       NULL::VARCHAR AS matched_record_key, id_number AS matched_id_number, 'id:' || id_number AS cluster_id
FROM scratch.link_records
WHERE id_valid
UNION ALL
SELECT * FROM _link;
