-- Identity tables a store last linked by an earlier version, brought up to this one before linking.
-- pipelines/identity/link.py runs this file only for such a store: core.person_links is rewritten whole
-- on every run, so its first row tells which version wrote it. person_links is therefore brought up
-- last: a run stopped halfway leaves it as it was, and the next run does the upgrade again (each
-- statement changes nothing a second time).

-- record_key named its batch by SHA-256 (template:<64 hex>:row) in stores built before 2026-11-24,
-- by batch number since (sql/macros/keys.sql). Respelled once: persons known only from records keep
-- their keys (their registry anchors are record keys), and the log and the last run's links speak
-- of the records the way this run does.
CREATE OR REPLACE TEMP MACRO sha_spelled(k, batch_id) AS length(k) > 64 AND split_part(k, ':', 2) = batch_id;
CREATE OR REPLACE TEMP MACRO respelled(k, batch_no) AS record_key(split_part(k, ':', 1), batch_no, split_part(k, ':', 3));

UPDATE core.person_key_registry SET anchor = respelled(anchor, b.batch_no)
FROM raw.batches b WHERE anchor_kind = 'record' AND sha_spelled(anchor, b.batch_id);

UPDATE core.merge_log SET record_key = respelled(record_key, b.batch_no)
FROM raw.batches b WHERE sha_spelled(record_key, b.batch_id);

UPDATE core.merge_log SET matched_record_key = respelled(matched_record_key, b.batch_no)
FROM raw.batches b WHERE sha_spelled(matched_record_key, b.batch_id);

UPDATE core.person_links SET record_key = respelled(record_key, b.batch_no)
FROM raw.batches b WHERE sha_spelled(record_key, b.batch_id);

-- person_links written before record_id existed get it, so the merge log compares on it.
UPDATE core.person_links SET record_id = r.record_id
FROM core.person_records r
WHERE core.person_links.record_id IS NULL AND r.record_key = core.person_links.record_key;
