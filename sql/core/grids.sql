-- core.grids: one row per micro-grid, with its grid, community, street and district.
-- The hierarchy comes from the columns of `grids`, never from parsing codes (contract §1).
-- A micro-grid seen in several batches takes its newest row.
CREATE OR REPLACE TABLE core.grids AS
SELECT microgrid_code, microgrid_name, grid_code, grid_name, grid_type,
       community_code, community_name, street_code, street_name, district_code, district_name,
       grid_worker, grid_worker_phone, batch_id, row_no
FROM (
    SELECT g.*, row_number() OVER (
               PARTITION BY g.microgrid_code
               ORDER BY b.loaded_at DESC, b.file_name DESC, g.row_no DESC) AS newest
    FROM staging.grids g
    JOIN raw.batches b USING (batch_id)
)
WHERE newest = 1
ORDER BY microgrid_code;
