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

-- What identity reads of each record, with the street of its house (which bounds the name key's blocking):
-- kept as core.link_inputs by each run, so the next one finds the records a new batch added or changed
-- (identity_closure.sql). A view: it follows scratch.link_records.
CREATE OR REPLACE TEMP VIEW _link_inputs AS
SELECT i.*, s.street_code FROM scratch.link_records i LEFT JOIN _house_street s USING (house_code);
