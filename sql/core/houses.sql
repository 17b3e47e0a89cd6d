-- core.houses: one row per 房屋编码; the newest 采集日期 wins (then the newest batch).
CREATE OR REPLACE TABLE core.houses AS
SELECT house_code, microgrid_code, std_address, compound, building, unit, floor, room,
       usage, occupancy, owner_name, owner_id_number, collected_on, batch_id, row_no
FROM (
    SELECT h.*, row_number() OVER (
               PARTITION BY h.house_code
               ORDER BY h.collected_on DESC, b.loaded_at DESC, b.file_name DESC, h.row_no DESC) AS newest
    FROM staging.housing h
    JOIN raw.batches b USING (batch_id)
)
WHERE newest = 1
ORDER BY house_code;
