-- core.evidence whole (a full build): every row of evidence_rows (core/evidence.sql).
CREATE OR REPLACE TABLE core.evidence AS SELECT * FROM evidence_rows;
DROP VIEW evidence_rows;
DROP TABLE _evidence_delta;
