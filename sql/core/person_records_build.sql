-- core.person_records whole (a full build): every row of person_record_rows (core/person_records.sql). Every
-- record is handed on as 'rebuilt' in scratch.record_delta (docs/architecture.md, "Incremental builds").
INSERT INTO _records_scan SELECT batch_id FROM raw.batches;
CREATE OR REPLACE TABLE core.person_records AS SELECT * FROM person_record_rows;
CREATE OR REPLACE TABLE scratch.record_delta AS
SELECT record_id, 'rebuilt' AS change FROM core.person_records;
DROP TABLE IF EXISTS scratch.address_delta;
DROP VIEW person_record_rows; DROP TABLE _records_batches; DROP TABLE _records_dirty; DROP TABLE _records_scan;
