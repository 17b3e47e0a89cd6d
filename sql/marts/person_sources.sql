-- marts.person_sources (extract person-sources, contract §3): lineage, one row per loaded row of
-- every person-bearing template. grids and housing rows describe places, not persons, and are
-- not listed. A row left unlinked has an empty 人员主键 (the stewards' list); 状态 is the
-- person's status on D, empty when the person has no record on or before D.
-- Not sorted: the extract orders its rows (reports/extracts.yaml); a sort here too would be a large
-- share of this statement, for nothing a reader sees (figures in docs/benchmarks-log.md).
-- The view person_sources_rows: every row, or with variable marts_delta the rows of the persons of TEMP
-- _marts_delta and the rows linked to no person (sql/marts/delta.sql).
CREATE OR REPLACE TEMP VIEW person_sources_rows AS
SELECT l.person_key AS "人员主键",
       r.template AS "来源",
       r.batch_id AS "批次",
       r.row_no AS "行号",
       r.record_no AS "记录编号",
       s.status AS "状态"
FROM core.person_records r
LEFT JOIN core.person_links l USING (record_id)
LEFT JOIN core.person_status s ON s.person_key = l.person_key
WHERE getvariable('marts_delta') IS NOT TRUE OR l.person_key IS NULL
   OR l.person_key IN (SELECT person_key FROM _marts_delta);
