-- The run report's tables (pipelines/reports/run_report.py): what this run answered for every inbox file, the
-- rows it refused, and what changed since the previous published version. The previous version's tables are
-- read through TEMP views rr_prev_batches, rr_prev_status (its marts.persons), rr_prev_issues (ATTACHed
-- read-only by the caller; empty views shaped alike when there is no previous version; for one written before
-- the marts, which earlier_version names, only rr_prev_batches is read). Both sides read the marts. Rebuilt by every run; the portal reads them.

CREATE OR REPLACE TABLE marts.run_meta AS
SELECT getvariable('as_of')::DATE AS as_of,
       getvariable('version')::VARCHAR AS version,
       getvariable('base_version')::VARCHAR AS base_version,
       (SELECT max(as_of) FROM rr_prev_status) AS base_as_of,
       getvariable('base_version') IS NOT NULL AS has_base,
       getvariable('earlier_version')::VARCHAR AS earlier_version;

-- every inbox file and folder as this run found it; new_batch: its batch was first read by this run
CREATE OR REPLACE TABLE marts.run_files AS
SELECT f.path, f.kind, f.outcome, f.reason, f.template, f.batch_id, b.batch_no, f.file_size,
       b.rows_read, b.rows_loaded, b.rows_rejected,
       coalesce(f.message, b.message) AS message,
       f.outcome IN ('loaded', 'rejected') AND f.batch_id IS NOT NULL
           AND f.batch_id NOT IN (SELECT batch_id FROM rr_prev_batches) AS new_batch
FROM raw.inbox_files f
LEFT JOIN raw.batches b ON b.batch_id = f.batch_id
ORDER BY f.path;

-- per source template: files and rows, this run's and all the store holds
CREATE OR REPLACE TABLE marts.run_sources AS
SELECT b.template,
       count(*) FILTER (WHERE n.batch_id IS NOT NULL AND b.status = 'loaded') AS files_new,
       count(*) FILTER (WHERE n.batch_id IS NOT NULL AND b.status = 'rejected') AS files_rejected_new,
       coalesce(sum(b.rows_read) FILTER (WHERE n.batch_id IS NOT NULL), 0)::BIGINT AS rows_read_new,
       coalesce(sum(b.rows_loaded) FILTER (WHERE n.batch_id IS NOT NULL), 0)::BIGINT AS rows_loaded_new,
       coalesce(sum(b.rows_rejected) FILTER (WHERE n.batch_id IS NOT NULL), 0)::BIGINT AS rows_rejected_new,
       count(*) FILTER (WHERE b.status = 'loaded') AS files_loaded,
       count(*) FILTER (WHERE b.status = 'rejected') AS files_rejected,
       coalesce(sum(b.rows_loaded), 0)::BIGINT AS rows_loaded,
       coalesce(sum(b.rows_rejected), 0)::BIGINT AS rows_rejected
FROM raw.batches b
LEFT JOIN (SELECT batch_id FROM raw.batches EXCEPT SELECT batch_id FROM rr_prev_batches) n USING (batch_id)
GROUP BY b.template
ORDER BY b.template;

-- per community: the stock before (the previous version, on its as-of) and after (this run, on its as-of), the
-- persons new to the store, the status moves and the steward queue's issues opened and closed in between.
-- A person counts in the community of the grid of their house on each side; grids as this run knows them.
CREATE OR REPLACE TABLE marts.run_changes AS
WITH grid AS (
    SELECT grid_code, min(community_code) AS community_code FROM marts.grids GROUP BY grid_code
),
community AS (
    SELECT community_code, min(community_name) AS community_name, min(street_code) AS street_code
    FROM marts.grids GROUP BY community_code
),
now AS (
    SELECT s.person_key, s.status, s.registered, g.community_code
    FROM marts.persons s LEFT JOIN grid g USING (grid_code)
),
before AS (
    SELECT s.person_key, s.status, s.registered, g.community_code
    FROM rr_prev_status s LEFT JOIN grid g USING (grid_code)
),
side AS (
    SELECT community_code, 'now' AS side, status, registered, person_key FROM now
    UNION ALL
    SELECT community_code, 'before', status, registered, person_key FROM before
),
stock AS (
    SELECT community_code,
           count(*) FILTER (WHERE side = 'before' AND registered) AS registered_before,
           count(*) FILTER (WHERE side = 'now' AND registered) AS registered_now,
           count(*) FILTER (WHERE side = 'before' AND status = '在住') AS present_before,
           count(*) FILTER (WHERE side = 'now' AND status = '在住') AS present_now,
           count(*) FILTER (WHERE side = 'before' AND status = '待核实') AS unverified_before,
           count(*) FILTER (WHERE side = 'now' AND status = '待核实') AS unverified_now
    FROM side GROUP BY community_code
),
moved AS (
    -- persons on this side whose status differs from the previous version's (or who are new to the store)
    SELECT n.community_code,
           count(*) FILTER (WHERE b.person_key IS NULL) AS persons_new,
           count(*) FILTER (WHERE b.person_key IS NOT NULL AND n.status IS DISTINCT FROM b.status) AS status_changed,
           count(*) FILTER (WHERE n.status = '在住' AND b.status IS DISTINCT FROM '在住') AS became_present,
           count(*) FILTER (WHERE b.status = '在住' AND n.status IS DISTINCT FROM '在住') AS left_present
    FROM now n LEFT JOIN before b USING (person_key)
    GROUP BY n.community_code
),
issues AS (
    SELECT coalesce(n.community_code, b.community_code) AS community_code,
           count(*) FILTER (WHERE b.issue_id IS NOT NULL) AS issues_open_before,
           count(*) FILTER (WHERE n.issue_id IS NOT NULL) AS issues_open_now,
           count(*) FILTER (WHERE b.issue_id IS NULL) AS issues_opened,
           count(*) FILTER (WHERE n.issue_id IS NULL) AS issues_closed
    FROM (SELECT issue_id, community_code FROM quality.issues WHERE status = 'open') n
    FULL JOIN (SELECT issue_id, community_code FROM rr_prev_issues WHERE status = 'open') b USING (issue_id)
    GROUP BY ALL
)
SELECT k.community_code, coalesce(c.community_name, '（未定位到社区）') AS community_name, c.street_code,
       coalesce(s.registered_before, 0) AS registered_before, coalesce(s.registered_now, 0) AS registered_now,
       coalesce(s.present_before, 0) AS present_before, coalesce(s.present_now, 0) AS present_now,
       coalesce(s.unverified_before, 0) AS unverified_before, coalesce(s.unverified_now, 0) AS unverified_now,
       coalesce(m.persons_new, 0) AS persons_new, coalesce(m.status_changed, 0) AS status_changed,
       coalesce(m.became_present, 0) AS became_present, coalesce(m.left_present, 0) AS left_present,
       coalesce(i.issues_open_before, 0) AS issues_open_before, coalesce(i.issues_open_now, 0) AS issues_open_now,
       coalesce(i.issues_opened, 0) AS issues_opened, coalesce(i.issues_closed, 0) AS issues_closed
FROM (SELECT community_code FROM stock UNION SELECT community_code FROM issues) k
LEFT JOIN community c USING (community_code)
LEFT JOIN stock s USING (community_code)
LEFT JOIN moved m USING (community_code)
LEFT JOIN issues i USING (community_code)
ORDER BY k.community_code NULLS LAST;

-- status moves between the two versions, per community of this run's side (the previous side's when gone)
CREATE OR REPLACE TABLE marts.run_transitions AS
WITH grid AS (
    SELECT grid_code, min(community_code) AS community_code FROM marts.grids GROUP BY grid_code
)
SELECT coalesce(gn.community_code, gb.community_code) AS community_code,
       coalesce(b.status, '（上一版本无此人）') AS status_before,
       coalesce(n.status, '（本版本无此人）') AS status_now,
       count(*) AS persons
FROM marts.persons n
FULL JOIN rr_prev_status b USING (person_key)
LEFT JOIN grid gn ON gn.grid_code = n.grid_code
LEFT JOIN grid gb ON gb.grid_code = b.grid_code
WHERE n.status IS DISTINCT FROM b.status
GROUP BY ALL
ORDER BY community_code NULLS LAST, status_before, status_now;
