-- record_id: a source row's compact key, (batch number << 32) | row number. It joins
-- core.person_records, core.person_links and core.evidence: at city scale the text record_key
-- (template:SHA-256:row, ≈ 80 characters) made those joins spill to disk. Stable across runs,
-- because raw.batches.batch_no never changes once a batch is loaded.
CREATE OR REPLACE TEMP MACRO record_id(batch_no, row_no) AS (batch_no::BIGINT << 32) | row_no::BIGINT;
