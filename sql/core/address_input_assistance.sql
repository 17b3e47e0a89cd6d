INSERT INTO addr_inputs
SELECT 'assistance', a.batch_id, a.row_no, a.record_no, a.address, NULL, nullif(trim(a.community_name), ''), NULL
FROM staging.assistance a
WHERE nullif(trim(a.address), '') IS NOT NULL;
