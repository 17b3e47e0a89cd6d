-- Identity tables a store kept from an earlier version, brought up to this one before linking.
-- Each statement finds nothing to change once it has run. pipelines/identity/link.py runs this
-- file when the store has these tables (a store's second linkage run onwards).

-- record_key named its batch by SHA-256 (template:<64 hex>:row) in stores built before 2026-11-24,
-- by batch number since (sql/macros/keys.sql). Respelled once: persons known only from records keep
-- their keys (their registry anchors are record keys), and the log and the last run's links speak
-- of the records the way this run does.
CREATE OR REPLACE TEMP MACRO sha_spelled(k, batch_id) AS length(k) > 64 AND split_part(k, ':', 2) = batch_id;
CREATE OR REPLACE TEMP MACRO respelled(k, batch_no) AS record_key(split_part(k, ':', 1), batch_no, split_part(k, ':', 3));

UPDATE core.person_key_registry SET anchor = respelled(anchor, b.batch_no)
FROM raw.batches b WHERE anchor_kind = 'record' AND sha_spelled(anchor, b.batch_id);

UPDATE core.person_links SET record_key = respelled(record_key, b.batch_no)
FROM raw.batches b WHERE sha_spelled(record_key, b.batch_id);

UPDATE core.merge_log SET record_key = respelled(record_key, b.batch_no)
FROM raw.batches b WHERE sha_spelled(record_key, b.batch_id);

UPDATE core.merge_log SET matched_record_key = respelled(matched_record_key, b.batch_no)
FROM raw.batches b WHERE sha_spelled(matched_record_key, b.batch_id);

-- person_links written before record_id existed get it, so the merge log compares on it.
UPDATE core.person_links SET record_id = r.record_id
FROM core.person_records r
WHERE core.person_links.record_id IS NULL AND r.record_key = core.person_links.record_key;
