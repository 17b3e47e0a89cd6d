-- Freshness and completeness per source template and community, as of getvariable('as_of').
-- Needs the q_* TEMP views (pipelines.quality.queue.bind_inputs) and quality/location.sql.
CREATE OR REPLACE TABLE quality.scorecard AS
WITH mg AS (SELECT microgrid_code, any_value(community_code) AS community_code FROM q_grids GROUP BY 1),
rec AS (
    SELECT r.template, coalesce(mg.community_code, bl.community_code) AS community_code, r.event_date,
           coalesce(r.id_valid, false) AS id_valid
    FROM q_person_records r
    LEFT JOIN q_houses h ON h.house_code = r.house_code
    LEFT JOIN mg ON mg.microgrid_code = h.microgrid_code
    LEFT JOIN q_batch_location bl ON bl.batch_id = r.batch_id
    WHERE r.event_date IS NULL OR r.event_date <= getvariable('as_of')
    UNION ALL
    SELECT 'housing', mg.community_code, h.collected_on, NULL
    FROM q_houses h LEFT JOIN mg USING (microgrid_code)
    WHERE h.collected_on IS NULL OR h.collected_on <= getvariable('as_of')
),
evidence AS (
    SELECT template, community_code, max(event_date) AS newest_evidence, count(*) AS records,
           avg(CASE WHEN id_valid THEN 1.0 ELSE 0.0 END) FILTER (WHERE id_valid IS NOT NULL) AS share_valid_ids
    FROM rec GROUP BY ALL
),
addresses AS (
    SELECT m.template, coalesce(mg.community_code, bl.community_code) AS community_code,
           count(*) AS addresses, avg(CASE WHEN m.match_status = 'matched' THEN 1.0 ELSE 0.0 END) AS share_addresses_matched
    FROM q_address_matches m
    LEFT JOIN q_houses h ON h.house_code = m.house_code
    LEFT JOIN mg ON mg.microgrid_code = h.microgrid_code
    LEFT JOIN q_batch_location bl ON bl.batch_id = m.batch_id
    -- the free-text addresses read: a row that stated a known 房屋编码 was not
    WHERE m.how IS DISTINCT FROM 'stated'
    GROUP BY ALL
),
loads AS (
    SELECT b.template, bl.community_code, count(*) AS batches,
           count(*) FILTER (WHERE b.status = 'rejected') AS files_rejected,
           sum(b.rows_loaded) AS rows_loaded, sum(b.rows_rejected) AS rows_rejected
    FROM q_batches b LEFT JOIN q_batch_location bl USING (batch_id)
    WHERE b.loaded_on <= getvariable('as_of')
    GROUP BY ALL
),
keys AS (
    SELECT template, community_code FROM evidence UNION SELECT template, community_code FROM addresses
    UNION SELECT template, community_code FROM loads
)
SELECT k.template, k.community_code, c.community_name, getvariable('as_of') AS as_of,
       e.newest_evidence, getvariable('as_of') - e.newest_evidence AS evidence_age_days,
       coalesce(e.records, 0) AS records, e.share_valid_ids, coalesce(a.addresses, 0) AS addresses,
       a.share_addresses_matched, coalesce(l.batches, 0) AS batches, coalesce(l.files_rejected, 0) AS files_rejected,
       coalesce(l.rows_loaded, 0) AS rows_loaded, coalesce(l.rows_rejected, 0) AS rows_rejected
FROM keys k
LEFT JOIN evidence e ON e.template = k.template AND e.community_code IS NOT DISTINCT FROM k.community_code
LEFT JOIN addresses a ON a.template = k.template AND a.community_code IS NOT DISTINCT FROM k.community_code
LEFT JOIN loads l ON l.template = k.template AND l.community_code IS NOT DISTINCT FROM k.community_code
LEFT JOIN (SELECT community_code, any_value(community_name) AS community_name FROM q_grids GROUP BY 1) c
       ON c.community_code = k.community_code
ORDER BY k.template, k.community_code NULLS LAST;
