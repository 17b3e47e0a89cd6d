-- Identity tables a store kept from an earlier version, brought up to this one before linking.
-- Each statement finds nothing to change once it has run. pipelines/identity/link.py runs this
-- file when the store has these tables (a store's second linkage run onwards).

-- record_key named its batch by SHA-256 (template:<64 hex>:row) before session 14, by batch number
-- since (sql/macros/keys.sql). Respelled once: persons known only from records keep their keys
-- (their registry anchors are record keys), and the log and the last run's links speak of the
-- records the way this run does.
UPDATE core.person_key_registry SET anchor = record_key(split_part(anchor, ':', 1), b.batch_no, split_part(anchor, ':', 3))
FROM raw.batches b
WHERE anchor_kind = 'record' AND length(anchor) > 64 AND b.batch_id = split_part(anchor, ':', 2);

UPDATE core.person_links SET record_key = record_key(split_part(record_key, ':', 1), b.batch_no, split_part(record_key, ':', 3))
FROM raw.batches b
WHERE length(record_key) > 64 AND b.batch_id = split_part(record_key, ':', 2);

UPDATE core.merge_log SET record_key = record_key(split_part(record_key, ':', 1), b.batch_no, split_part(record_key, ':', 3))
FROM raw.batches b
WHERE length(record_key) > 64 AND b.batch_id = split_part(record_key, ':', 2);

UPDATE core.merge_log SET matched_record_key = record_key(split_part(matched_record_key, ':', 1), b.batch_no, split_part(matched_record_key, ':', 3))
FROM raw.batches b
WHERE length(matched_record_key) > 64 AND b.batch_id = split_part(matched_record_key, ':', 2);

-- person_links written before record_id existed get it, so the merge log compares on it.
UPDATE core.person_links SET record_id = r.record_id
FROM core.person_records r
WHERE core.person_links.record_id IS NULL AND r.record_key = core.person_links.record_key;
