-- record_id: a source row's compact key, (batch number << 32) | row number. It joins
-- core.person_records, core.person_links and core.evidence: at city scale the text record_key
-- (template:SHA-256:row, ≈ 80 characters) made those joins spill to disk. Stable across runs,
-- because raw.batches.batch_no never changes once a batch is loaded.
CREATE OR REPLACE MACRO record_id(batch_no, row_no) AS (batch_no::BIGINT << 32) | row_no::BIGINT;

-- record_key: the same row, readable: template:batch number:row number ("hukou:12:3051"). Stores
-- built before 2026-11-24 named the batch by its SHA-256 (≈ 80 characters in every per-record table
-- of a 56-million-record city); sql/core/identity_upgrade.sql respells the keys they kept.
CREATE OR REPLACE MACRO record_key(template, batch_no, row_no) AS template || ':' || batch_no || ':' || row_no;

-- row_name: a row's name that does not depend on the order files were loaded in (batch_no does):
-- template:batch SHA-256:row number. Steward issues hash it, so a store rebuilt from the same files
-- finds the same issue ids and the stewards' decisions stay attached.
CREATE OR REPLACE MACRO row_name(template, batch_id, row_no) AS template || ':' || batch_id || ':' || row_no;

-- Parts of packed ranking keys (one HUGEINT, fields shifted into place: max()/arg_max() over a number
-- is several times cheaper than over a struct). DuckDB refuses to shift a negative number, so each
-- part is at least 0; NULL stays NULL.
-- rank_day: days since 1800-01-01 (a date typed centuries off, 0001-01-01, ranks as 1800).
CREATE OR REPLACE MACRO rank_day(d) AS CASE WHEN d < DATE '1800-01-01' THEN 0 ELSE d - DATE '1800-01-01' END;
-- rank_load_us: microseconds since 2000 a file was loaded (the batches of one load are a microsecond
-- apart, pipelines/ingest); 0 when unknown.
CREATE OR REPLACE MACRO rank_load_us(loaded_at) AS
    greatest(coalesce(epoch_us(loaded_at) - epoch_us(TIMESTAMP '2000-01-01'), 0), 0);

-- letter_digest: a 16-character code for a text, letters only (MD5's hex digits 0-9 spelled G-T). Steward
-- issues and follow-up tasks are named by it: a hex code can hold a run of 11 digits that reads as a mobile
-- number (about one code in thirty), and every output masks those.
CREATE OR REPLACE MACRO hex_as_letters(hex) AS translate(upper(hex), '0123456789', 'GHJKMNPQRT');
CREATE OR REPLACE MACRO letter_digest(what) AS hex_as_letters(left(md5(what), 16));
-- Issue ids were the same digest in hex until 2026-12-07: a store's decisions and a steward's workbook from
-- before name an issue that way (quality/schema.sql respells the store's once; apply reads a workbook's so).
CREATE OR REPLACE MACRO upgraded_issue_id(id) AS
    CASE WHEN regexp_full_match(id, '[0-9a-f]{16}') THEN hex_as_letters(id) ELSE id END;
