-- A floating registration names its house when it can: a row whose 房屋编码 is a known house is 已匹配
-- to it; only rows whose 房屋编码 is empty or unknown are read.
INSERT INTO addr_inputs
SELECT 'floating', f.batch_id, f.row_no, f.record_no, f.current_address, h.house_code, NULL,
       nullif(trim(f.police_station), '')
FROM staging.floating f
LEFT JOIN core.houses h ON h.house_code = trim(f.house_code)
WHERE nullif(trim(f.current_address), '') IS NOT NULL;
