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
WHERE getvariable('marts_delta') IS NOT TRUE
UNION ALL
-- the same rows, picked from the links before core.person_records is read (a whole join of the two was most of
-- an incremental build's time here): the records of the persons of _marts_delta, and those of no person
SELECT k.person_key, r.template, r.batch_id, r.row_no, r.record_no, s.status
FROM (SELECT record_id, person_key FROM core.person_links
      WHERE person_key IN (SELECT person_key FROM _marts_delta)
      UNION ALL
      SELECT record_id, NULL FROM core.person_records
      WHERE record_id NOT IN (SELECT record_id FROM core.person_links WHERE person_key IS NOT NULL)) k
JOIN core.person_records r USING (record_id)
LEFT JOIN core.person_status s ON s.person_key = k.person_key
WHERE getvariable('marts_delta');
