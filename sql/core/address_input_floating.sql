-- A floating registration names its house when it can; only rows whose 房屋编码 is empty or
-- unknown need the address.
INSERT INTO addr_inputs
SELECT 'floating', f.batch_id, f.row_no, f.record_no, f.current_address
FROM staging.floating f
WHERE nullif(trim(f.current_address), '') IS NOT NULL
  AND (nullif(trim(f.house_code), '') IS NULL
       OR NOT EXISTS (SELECT 1 FROM core.houses h WHERE h.house_code = trim(f.house_code)));
