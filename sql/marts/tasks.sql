-- The follow-up tasks on D (variables: as_of; record_events: append this build's events to core.task_log;
-- built_at; overdue_verify / overdue_deregister / overdue_assistance in days). Reads core.person_status
-- (for D), core.evidence, marts.assistance_flagged and the ledger core.task_log (sql/marts/task_log.sql).
--
-- The ledger is replayed up to D (events of builds with as_of <= D), compared with the tasks D's evidence
-- calls for, and the difference is this build's events: a task needed and not open is opened; a task open
-- and no longer needed is closed, citing the evidence that resolved it. Only a build at or after the
-- newest as-of in the ledger records its events (pipelines/marts/tasks.py): the ledger moves forward, and a
-- build for an earlier date shows what a build on that date would have written without rewriting what
-- later builds found. Either way marts.tasks is the ledger's state on D with this build's events applied.

-- A task's id: the kind's prefix and a digest of what is to be done, so the same person at the same house,
-- last seen on the same day, is the same task whatever order the files were loaded in.
-- Letters only (letter_digest, sql/macros/keys.sql).
CREATE OR REPLACE TEMP MACRO task_id(prefix, what) AS prefix || '-' || letter_digest(what);

-- What D's evidence calls for. verify: contract §3 verification-tasks (待核实 with a current house);
-- deregister: contract §3 deregistration-feedback (counts in 登记人口 but 已离开); assistance: each row of
-- the assistance check.
CREATE OR REPLACE TEMP TABLE t_needed AS
SELECT task_id('HS', 'verify|' || person_key || '|' || house_code || '|' || presence_date::VARCHAR) AS task_id,
       'verify' AS kind, person_key, house_code, grid_code, presence_date::VARCHAR AS subject, basis
FROM core.person_status
WHERE status = '待核实' AND house_code IS NOT NULL
UNION ALL
SELECT task_id('ZX', 'deregister|' || person_key || '|' || coalesce(presence_date::VARCHAR, '')),
       'deregister', person_key, house_code, grid_code, presence_date::VARCHAR, basis
FROM core.person_status
WHERE registered AND status = '已离开'
UNION ALL
SELECT task_id('JZ', 'assistance|' || a.record || '|' || a.person_key),
       'assistance', a.person_key, s.house_code, s.grid_code, a.record, a."依据"
FROM marts.assistance_flagged a
JOIN core.person_status s ON s.person_key = a.person_key;

-- The ledger on D: each task's newest event, and the newest event that opened it.
CREATE OR REPLACE TEMP TABLE t_state AS
WITH e AS (
    SELECT * FROM core.task_log WHERE as_of <= getvariable('as_of')
),
last AS (
    SELECT * FROM e QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY as_of DESC, built_at DESC) = 1
),
opened AS (
    SELECT * FROM e WHERE event = 'opened'
    QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY as_of DESC, built_at DESC) = 1
)
SELECT o.task_id, o.kind, l.event AS state, o.as_of AS opened_on,
       CASE WHEN l.event = 'closed' THEN l.as_of END AS closed_on,
       o.person_key, o.house_code, o.grid_code, o.subject, o.basis,
       l.resolution, l.closing_key, l.closing_template, l.closing_batch_id, l.closing_row_no, l.closing_record_no,
       l.closing_date, l.closing_detail
FROM opened o
JOIN last l USING (task_id);

-- Why an open task is no longer needed, and which record says so: the evidence that decided the person's
-- status on D (a visit 在住 / 已搬离 / 查无此人 at the house, a police deregistration, a death record).
CREATE OR REPLACE TEMP TABLE t_closing AS
WITH gone AS (
    SELECT s.* FROM t_state s ANTI JOIN t_needed n USING (task_id) WHERE s.state = 'opened'
),
-- the police deregistration that took a person out of 登记人口 (deregister tasks)
dereg AS (
    SELECT e.person_key, e.record_key, e.kind
    FROM core.evidence e
    WHERE e.person_key IN (SELECT person_key FROM gone WHERE kind = 'deregister')
      AND ((e.template = 'hukou' AND e.kind = 'departure')
           OR (e.template = 'floating' AND e.kind IN ('departure', 'death', 'deregistration')))
      AND (e.evidence_date IS NULL OR e.evidence_date <= getvariable('as_of'))
    QUALIFY row_number() OVER (PARTITION BY e.person_key
                               ORDER BY coalesce(e.evidence_date, getvariable('as_of')) DESC, e.loaded_at DESC,
                                        e.record_key) = 1
),
-- the newest version of an assistance record (assistance tasks): ended when its 终止日期 is before D
aid AS (
    SELECT g.task_id, e.record_key, e.end_date
    FROM gone g
    JOIN core.evidence e ON e.template = 'assistance' AND e.person_key = g.person_key
                        AND g.subject IN (e.record_no, e.batch_id || ':' || e.row_no)
    WHERE g.kind = 'assistance'
    QUALIFY row_number() OVER (PARTITION BY g.task_id ORDER BY e.loaded_at DESC, e.record_key DESC) = 1
),
decided AS (
    SELECT g.task_id,
           CASE WHEN ps.person_key IS NULL THEN ['人员记录已变更', NULL, NULL]
                WHEN g.kind = 'verify' THEN CASE ps.status
                     WHEN '在住' THEN ['核实在住', ps.presence_key, 'presence']
                     WHEN '已离开' THEN ['已离开', ps.decision_key, 'departure']
                     WHEN '死亡' THEN ['死亡', ps.decision_key, 'death']
                     ELSE ['在住证据已更新', coalesce(ps.presence_key, ps.decision_key),
                           CASE WHEN ps.presence_key IS NOT NULL THEN 'presence' END] END
                WHEN g.kind = 'deregister' THEN CASE
                     WHEN ps.status = '死亡' THEN ['死亡', ps.decision_key, 'death']
                     WHEN NOT ps.registered AND dr.record_key IS NOT NULL THEN ['已注销', dr.record_key, dr.kind]
                     WHEN ps.status = '在住' THEN ['核实在住', ps.presence_key, 'presence']
                     ELSE ['状态已变更', ps.decision_key, NULL] END
                ELSE CASE
                     WHEN ps.status = '在住' THEN ['核实在住', ps.presence_key, 'presence']
                     WHEN a.end_date < getvariable('as_of') THEN ['救助已终止', a.record_key, 'other']
                     ELSE ['救助记录已变更', a.record_key, 'other'] END
           END AS why
    FROM gone g
    LEFT JOIN core.person_status ps ON ps.person_key = g.person_key
    LEFT JOIN dereg dr ON g.kind = 'deregister' AND dr.person_key = g.person_key
    LEFT JOIN aid a ON a.task_id = g.task_id
)
SELECT d.task_id, d.why[1] AS resolution, d.why[2] AS closing_key,
       e.template AS closing_template, e.batch_id AS closing_batch_id, e.row_no AS closing_row_no,
       e.record_no AS closing_record_no,
       CASE WHEN d.why[1] = '救助已终止' THEN e.end_date ELSE e.evidence_date END AS closing_date,
       CASE WHEN e.record_key IS NOT NULL THEN evidence_detail(e) END AS closing_detail
FROM decided d
LEFT JOIN core.evidence e ON e.record_key = d.why[2] AND (d.why[3] IS NULL OR e.kind = d.why[3])
QUALIFY row_number() OVER (PARTITION BY d.task_id ORDER BY e.kind) = 1;

-- This build's events.
CREATE OR REPLACE TEMP TABLE t_new AS
SELECT n.task_id, n.kind, 'opened' AS event, n.person_key, n.house_code, n.grid_code, n.subject, n.basis,
       NULL::VARCHAR AS resolution, NULL::VARCHAR AS closing_key, NULL::VARCHAR AS closing_template,
       NULL::VARCHAR AS closing_batch_id, NULL::INTEGER AS closing_row_no, NULL::VARCHAR AS closing_record_no,
       NULL::DATE AS closing_date, NULL::VARCHAR AS closing_detail
FROM t_needed n
LEFT JOIN t_state s USING (task_id)
WHERE s.task_id IS NULL OR s.state = 'closed'
UNION ALL
SELECT s.task_id, s.kind, 'closed', s.person_key, s.house_code, s.grid_code, s.subject, NULL,
       c.resolution, c.closing_key, c.closing_template, c.closing_batch_id, c.closing_row_no, c.closing_record_no,
       c.closing_date, c.closing_detail
FROM t_state s
JOIN t_closing c USING (task_id);

INSERT INTO core.task_log
SELECT task_id, kind, event, getvariable('as_of'), getvariable('built_at')::TIMESTAMP, person_key, house_code,
       grid_code, subject, basis, resolution, closing_key, closing_template, closing_batch_id, closing_row_no,
       closing_record_no, closing_date, closing_detail
FROM t_new
WHERE getvariable('record_events');

-- marts.tasks: every task known on D (opened on or before D), open or closed. grid_code is the grid the
-- house lies in now (grids may be redrawn), else the one recorded. days: open for how long (open tasks), or
-- from opening to the closing record's date (closed tasks; 0 when the record predates the task).
CREATE OR REPLACE TABLE marts.tasks AS
WITH merged AS (
    SELECT coalesce(n.task_id, s.task_id) AS task_id,
           coalesce(n.kind, s.kind) AS kind,
           CASE WHEN n.event = 'opened' OR (n.event IS NULL AND s.state = 'opened') THEN 'open' ELSE 'closed' END
               AS state,
           CASE WHEN n.event = 'opened' THEN getvariable('as_of') ELSE s.opened_on END AS opened_on,
           CASE WHEN n.event = 'closed' THEN getvariable('as_of')
                WHEN n.event IS NULL THEN s.closed_on END AS closed_on,
           coalesce(n.person_key, s.person_key) AS person_key,
           coalesce(n.house_code, s.house_code) AS house_code,
           coalesce(n.grid_code, s.grid_code) AS grid_code,
           coalesce(n.subject, s.subject) AS subject,
           CASE WHEN n.event = 'opened' THEN n.basis ELSE s.basis END AS opened_basis,
           CASE WHEN n.event = 'closed' THEN n.resolution WHEN n.event IS NULL THEN s.resolution END AS resolution,
           CASE WHEN n.event = 'closed' THEN n.closing_key WHEN n.event IS NULL THEN s.closing_key END AS closing_key,
           CASE WHEN n.event = 'closed' THEN n.closing_template WHEN n.event IS NULL THEN s.closing_template END
               AS closing_template,
           CASE WHEN n.event = 'closed' THEN n.closing_batch_id WHEN n.event IS NULL THEN s.closing_batch_id END
               AS closing_batch_id,
           CASE WHEN n.event = 'closed' THEN n.closing_row_no WHEN n.event IS NULL THEN s.closing_row_no END
               AS closing_row_no,
           CASE WHEN n.event = 'closed' THEN n.closing_record_no WHEN n.event IS NULL THEN s.closing_record_no END
               AS closing_record_no,
           CASE WHEN n.event = 'closed' THEN n.closing_date WHEN n.event IS NULL THEN s.closing_date END
               AS closing_date,
           CASE WHEN n.event = 'closed' THEN n.closing_detail WHEN n.event IS NULL THEN s.closing_detail END
               AS closing_detail
    FROM t_state s
    FULL JOIN t_new n USING (task_id)
),
placed AS (
    SELECT m.*, coalesce(g.grid_code, m.grid_code) AS current_grid,
           CASE m.kind WHEN 'verify' THEN getvariable('overdue_verify')
                       WHEN 'deregister' THEN getvariable('overdue_deregister')
                       ELSE getvariable('overdue_assistance') END::INTEGER AS overdue_days
    FROM merged m
    LEFT JOIN core.houses h ON h.house_code = m.house_code
    LEFT JOIN core.grids g ON g.microgrid_code = h.microgrid_code
),
aid_kind AS (
    -- 救助类别 of a settled assistance task's record, from its newest version: the check no longer flags it
    SELECT m.task_id, arg_max(e.outcome, e.loaded_at) AS assistance_type
    FROM merged m
    JOIN core.evidence e ON e.template = 'assistance' AND e.person_key = m.person_key
                        AND m.subject IN (e.record_no, e.batch_id || ':' || e.row_no)
    WHERE m.kind = 'assistance' AND m.state = 'closed'
    GROUP BY m.task_id
)
SELECT p.task_id, p.kind, p.state, p.person_key, p.house_code, p.current_grid AS grid_code, p.subject,
       p.opened_on, p.closed_on,
       CASE WHEN p.state = 'open' THEN getvariable('as_of') - p.opened_on
            ELSE greatest(coalesce(p.closing_date, p.closed_on) - p.opened_on, 0) END AS days,
       p.overdue_days,
       p.state = 'open' AND getvariable('as_of') - p.opened_on > p.overdue_days AS overdue,
       -- an open task says why it is needed today, a closed one why it was opened
       CASE WHEN p.state = 'open' THEN n.basis ELSE p.opened_basis END AS basis,
       p.resolution, p.closing_key, p.closing_template, p.closing_batch_id, p.closing_row_no,
       p.closing_record_no, p.closing_date, p.closing_detail, k.assistance_type
FROM placed p
LEFT JOIN t_needed n ON n.task_id = p.task_id
LEFT JOIN aid_kind k ON k.task_id = p.task_id;

DROP TABLE t_new;
DROP TABLE t_closing;
DROP TABLE t_state;
DROP TABLE t_needed;
