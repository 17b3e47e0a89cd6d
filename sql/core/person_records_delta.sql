-- core.person_records for what a batch can change (an incremental build, pipelines/records.py), before the rows
-- are replaced: core.person_records still holds what the last build wrote.
--
-- A record's row is its staging row (changed only by a steward's fix or new code: either makes the build a full
-- one), its batch's number and the house it names: its stated 房屋编码 when that is a known house, else the house
-- its address matched. So the rows to build are those of batches not yet in the table, those whose address's
-- house changed (scratch.address_delta, core/address_matches_done.sql), and those whose stated code became or
-- ceased to be a known house; the rows of batches no longer loaded go.
INSERT INTO _records_batches
SELECT batch_id FROM raw.batches
EXCEPT
SELECT DISTINCT batch_id FROM core.person_records;

INSERT INTO _records_dirty
SELECT record_id FROM scratch.address_delta
UNION
SELECT p.record_id
FROM core.person_records p
LEFT JOIN core.houses h ON h.house_code = p.stated_house_code
WHERE p.stated_house_code IS NOT NULL AND coalesce(p.house_source = 'stated', false) <> (h.house_code IS NOT NULL)
UNION
SELECT record_id FROM core.person_records WHERE batch_id NOT IN (SELECT batch_id FROM raw.batches);

INSERT INTO _records_scan
SELECT batch_id FROM _records_batches
UNION
SELECT b.batch_id FROM raw.batches b WHERE b.batch_no IN (SELECT DISTINCT record_id >> 32 FROM _records_dirty);

DELETE FROM core.person_records WHERE record_id IN (SELECT record_id FROM _records_dirty);
INSERT INTO core.person_records SELECT * FROM person_record_rows;

-- What later stages may start from (scratch.record_delta, docs/architecture.md "Incremental builds"): the
-- records of new batches ('new'), those built again ('changed') and those gone ('removed').
CREATE OR REPLACE TABLE scratch.record_delta AS
SELECT record_id, CASE WHEN batch_id IN (SELECT batch_id FROM _records_batches) THEN 'new' ELSE 'changed' END AS change
FROM core.person_records
WHERE batch_id IN (SELECT batch_id FROM _records_batches) OR record_id IN (SELECT record_id FROM _records_dirty)
UNION ALL
SELECT record_id, 'removed'
FROM _records_dirty
WHERE record_id NOT IN (SELECT record_id FROM core.person_records);

DROP TABLE scratch.address_delta;
DROP VIEW person_record_rows; DROP TABLE _records_batches; DROP TABLE _records_dirty; DROP TABLE _records_scan;
