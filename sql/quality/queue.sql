-- quality.issues: one row per problem, deduplicated across sources, located and with its status.
-- The issue_id hashes what the problem is about (rule, row, field, value), not when it was found,
-- so a rebuild finds the same id and the steward's decision (quality.corrections) stays attached.
-- needs TEMP q_row_location / q_batch_location from quality/location.sql
CREATE OR REPLACE TABLE quality.issues AS
WITH dedup AS (
    SELECT * FROM q_candidates
    QUALIFY row_number() OVER (
        PARTITION BY rule, template, batch_id, row_no, row_key, column_name ORDER BY priority) = 1
),
located AS (
    SELECT d.*,
           concat_ws('|', d.rule, coalesce(d.template, ''), coalesce(d.batch_id, ''),
                     coalesce(CAST(d.row_no AS VARCHAR), ''), coalesce(d.row_key, ''),
                     coalesce(d.column_name, ''), coalesce(d.value, '')) AS what,
           coalesce(d.microgrid_code, h.microgrid_code, s.microgrid_code, rl.microgrid_code) AS mg
    FROM dedup d
    LEFT JOIN q_houses h ON h.house_code = d.house_code
    LEFT JOIN q_person_status s ON s.person_key = d.person_key
    -- only the rows the queue lists are located (q_row_location holds every record: the whole store's rows)
    LEFT JOIN (SELECT l.template, l.batch_id, l.row_no, any_value(l.microgrid_code) AS microgrid_code
               FROM q_row_location l
               SEMI JOIN dedup q ON q.template = l.template AND q.batch_id = l.batch_id AND q.row_no = l.row_no
               GROUP BY ALL) rl
           ON rl.template = d.template AND rl.batch_id = d.batch_id AND rl.row_no = d.row_no
),
keyed AS (
    SELECT l.*,
           letter_digest(l.what) AS issue_id,
           coalesce(g.community_code, bl.community_code) AS community_code
    FROM located l
    LEFT JOIN (SELECT microgrid_code, any_value(community_code) AS community_code FROM q_grids GROUP BY 1) g ON g.microgrid_code = l.mg
    LEFT JOIN q_batch_location bl ON bl.batch_id = l.batch_id
)
SELECT k.issue_id, k.rule, k.severity, k.source,
       k.community_code, c.community_name, c.street_code, k.template, k.batch_id, k.row_no, k.record_no,
       k.row_key, k.field, k.column_name, k.value, k.message, k.suggested_fix,
       CASE coalesce(a.action, x.action) WHEN 'fix' THEN 'fixed' WHEN 'waive' THEN 'waived' ELSE 'open' END AS status,
       now()::TIMESTAMP AS built_at,
       now()::TIMESTAMP AS first_seen     -- kept from the previous rebuild by quality/queue_history.sql
FROM keyed k
LEFT JOIN (SELECT community_code, any_value(community_name) AS community_name, any_value(street_code) AS street_code
           FROM q_grids GROUP BY 1) c
       ON c.community_code = k.community_code
LEFT JOIN quality.active_corrections a ON a.issue_id = k.issue_id
-- the same record's same wrong value seen again in another batch keeps the steward's decision
LEFT JOIN (SELECT template, record_key, field, old_value, arg_max(action, "at") AS action
           FROM quality.active_corrections WHERE record_key IS NOT NULL GROUP BY ALL) x
       ON a.issue_id IS NULL AND x.template = k.template AND x.record_key = k.record_no
      AND x.field = k.column_name AND x.old_value = k.value
-- stored in the portal's reading order: a community's issues sit in few row groups, which a page's filter on its
-- communities finds by their min/max (pipelines/web/pages.py, queue_page)
ORDER BY k.community_code, status, k.rule, k.template, k.batch_id, k.row_no, k.issue_id;
