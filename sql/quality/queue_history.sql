-- After quality/queue.sql: keep resolved issues listed and record what this rebuild changed.
-- needs TEMP q_prev_issues (quality.issues before the rebuild; empty on the first one) and
-- TEMP q_fixes_in_force (correction_id of every fix that replaced a cell in this rebuild).
--
-- A fix removes its problem from the sources (the cell is corrected), so the rebuild no longer finds the
-- issue; without this step it would vanish from `quality list --status fixed` and a re-applied workbook would
-- no longer recognise it. An issue with a standing decision (not reverted) is kept with its status; a reverted
-- fix brings the problem back from the sources.
INSERT INTO quality.issues BY NAME
SELECT p.* EXCLUDE (built_at, status), CASE a.action WHEN 'fix' THEN 'fixed' ELSE 'waived' END AS status,
       now()::TIMESTAMP AS built_at
FROM q_prev_issues p
-- the standing decision, whether the previous build already showed it or it waited in the home's database for
-- this build (pipelines/quality/pending.py: the live store is only read between builds)
JOIN quality.active_corrections a ON a.issue_id = p.issue_id
WHERE p.issue_id NOT IN (SELECT issue_id FROM quality.issues);

-- an issue found before keeps the time it was first found (the steward's "oldest open issue")
UPDATE quality.issues i SET first_seen = p.first_seen
FROM q_prev_issues p WHERE p.issue_id = i.issue_id AND p.first_seen < i.first_seen;

INSERT INTO quality.queue_runs
WITH prev AS (SELECT coalesce(max(run_no), 0) AS run_no, max(built_at) AS built_at FROM quality.queue_runs),
now_open AS (SELECT issue_id FROM quality.issues WHERE status = 'open'),
-- open at the previous rebuild: still open then, or decided by a steward since (apply marks it at once)
was_open AS (SELECT issue_id FROM q_prev_issues p, prev
             WHERE p.status = 'open' OR EXISTS (SELECT 1 FROM quality.corrections c
                                                WHERE c.issue_id = p.issue_id AND c."at" > prev.built_at))
SELECT prev.run_no + 1, now()::TIMESTAMP,
       (SELECT count(*) FROM quality.issues WHERE status = 'open'),
       (SELECT count(*) FROM quality.issues WHERE status = 'fixed'),
       (SELECT count(*) FROM quality.issues WHERE status = 'waived'),
       (SELECT count(*) FROM now_open WHERE issue_id NOT IN (SELECT issue_id FROM was_open)),
       (SELECT count(*) FROM was_open WHERE issue_id NOT IN (SELECT issue_id FROM now_open)),
       (SELECT count(DISTINCT correction_id) FROM q_fixes_in_force),
       (SELECT count(*) FROM quality.active_corrections WHERE prev.built_at IS NULL OR "at" > prev.built_at)
FROM prev;

INSERT INTO quality.queue_trend
SELECT (SELECT max(run_no) FROM quality.queue_runs), community_code, any_value(community_name), rule, status, count(*)
FROM quality.issues GROUP BY community_code, rule, status;
