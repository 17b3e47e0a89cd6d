-- The quality schema: validation results, the steward queue and the append-only corrections.
-- Idempotent: run on every connection that writes quality data.
CREATE TABLE IF NOT EXISTS quality.validation_results (
    run_at TIMESTAMP, suite VARCHAR, table_name VARCHAR, expectation_type VARCHAR, rule VARCHAR,
    level VARCHAR, column_name VARCHAR, success BOOLEAN, element_count BIGINT, unexpected_count BIGINT,
    error VARCHAR
);
-- A staging suite's counts per batch and expectation (exp_no: its place in the suite), for the expectations
-- whose count over the table is the sum over batches; digest: what the batch was when counted
-- (pipelines/quality/batches.py). A build counts only batches without counts; the totals go to validation_results.
CREATE TABLE IF NOT EXISTS quality.validation_batches (
    suite VARCHAR, batch_id VARCHAR, digest VARCHAR, exp_no INTEGER, element_count BIGINT, unexpected_count BIGINT
);
-- Failing rows of the last validation of each suite (replaced per suite on every run; a staging suite's per
-- batch, as its counts in validation_batches).
CREATE TABLE IF NOT EXISTS quality.expectation_failures (
    run_at TIMESTAMP, suite VARCHAR, table_name VARCHAR, rule VARCHAR, level VARCHAR,
    column_name VARCHAR, field VARCHAR, description VARCHAR,
    template VARCHAR, batch_id VARCHAR, row_no INTEGER, record_no VARCHAR, row_key VARCHAR, value VARCHAR,
    house_code VARCHAR, microgrid_code VARCHAR, person_key VARCHAR
);
-- Append-only: a fix is never updated; a later row (revert, or another fix) supersedes it.
-- record_key: the record's identity across batches (记录编号; 房屋编码 for housing; 微网格编码 for grids),
-- so a fresh batch that repeats the old wrong value for the same record is corrected too.
CREATE TABLE IF NOT EXISTS quality.corrections (
    correction_id VARCHAR PRIMARY KEY, issue_id VARCHAR NOT NULL, template VARCHAR, batch_id VARCHAR,
    row_no INTEGER, record_key VARCHAR, field VARCHAR, old_value VARCHAR, new_value VARCHAR,
    action VARCHAR NOT NULL CHECK (action IN ('fix', 'waive', 'revert')), reason VARCHAR,
    "by" VARCHAR NOT NULL, "at" TIMESTAMP NOT NULL
);
-- The standing decision per issue: its newest correction, unless that is a revert.
CREATE OR REPLACE VIEW quality.active_corrections AS
SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY issue_id ORDER BY "at" DESC, correction_id DESC) AS rn
    FROM quality.corrections
) WHERE rn = 1 AND action <> 'revert';
-- One row per rebuild of the queue (pipelines/quality/queue.py build_queue): what the run changed for
-- the stewards. corrections_in_force: fixes that replaced a cell in this rebuild; corrections_new: decisions
-- made since the previous rebuild, i.e. first taken into account by this one ("which rebuild applied them").
CREATE TABLE IF NOT EXISTS quality.queue_runs (
    run_no INTEGER, built_at TIMESTAMP, open BIGINT, fixed BIGINT, waived BIGINT,
    opened BIGINT, closed BIGINT, corrections_in_force BIGINT, corrections_new BIGINT
);
-- Counts per community, rule and status at every rebuild: the stewards' trend across runs.
CREATE TABLE IF NOT EXISTS quality.queue_trend (
    run_no INTEGER, community_code VARCHAR, community_name VARCHAR, rule VARCHAR, status VARCHAR, n BIGINT
);
-- Issue ids were hex until 2026-12-07 (sql/macros/keys.sql upgraded_issue_id): the decisions recorded under
-- them are respelled once, so they stay attached to their issues. Only the spelling changes, never a decision.
-- (spelled out here: this file also runs on connections without sql/macros)
UPDATE quality.corrections SET issue_id = translate(upper(issue_id), '0123456789', 'GHJKMNPQRT')
WHERE regexp_full_match(issue_id, '[0-9a-f]{16}');
