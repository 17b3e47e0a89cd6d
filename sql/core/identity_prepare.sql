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

-- An incremental run's closure (identity_closure.sql) and the identified records only unresolved records
-- outside it reach (identity_context.sql); empty on a full run.
CREATE TEMP TABLE IF NOT EXISTS _closure (record_key VARCHAR);
CREATE TEMP TABLE IF NOT EXISTS _reach_outside (record_key VARCHAR);
