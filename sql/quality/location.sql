-- Where a source row is: its house's micro-grid, else (for rows that say nothing about a place)
-- the community most rows of its file are in. Used by the queue and the scorecard.
CREATE OR REPLACE TEMP VIEW q_row_location AS
SELECT r.template, r.batch_id, r.row_no, h.microgrid_code
FROM q_person_records r JOIN q_houses h ON h.house_code = r.house_code
UNION ALL SELECT 'housing', batch_id, row_no, microgrid_code FROM q_houses
UNION ALL SELECT 'grids', batch_id, row_no, microgrid_code FROM q_grids;

-- A row that tells nothing about where it is belongs to the community most of its file's rows are in.
CREATE OR REPLACE TEMP TABLE q_batch_location AS
SELECT batch_id, arg_max(community_code, n) AS community_code FROM (
    SELECT l.batch_id, g.community_code, count(*) AS n
    FROM q_row_location l JOIN q_grids g USING (microgrid_code) GROUP BY ALL
) GROUP BY batch_id;

