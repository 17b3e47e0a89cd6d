-- The closed dirty closure (identity_closure*.sql) by record key again: every key it can hold — this run's
-- records, the seeds (a record gone is one) and the records keys are anchored on — whose hash it holds.
CREATE OR REPLACE TEMP TABLE _closure AS
SELECT DISTINCT record_key FROM (
    SELECT record_key FROM _link_inputs
    UNION ALL
    SELECT record_key FROM _seed_rows
    UNION ALL
    SELECT anchor FROM core.person_key_registry WHERE anchor_kind = 'record'
)
WHERE hash(record_key) IN (SELECT h FROM _closure);

DROP VIEW _closure_edges;
