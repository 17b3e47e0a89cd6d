INSERT INTO addr_inputs
SELECT 'hukou', h.batch_id, h.row_no, h.record_no, h.hukou_address, NULL, NULL, nullif(trim(h.police_station), '')
FROM staging.hukou h
WHERE nullif(trim(h.hukou_address), '') IS NOT NULL;
