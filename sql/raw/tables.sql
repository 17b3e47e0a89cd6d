-- The raw layer's fixed tables (docs/architecture.md, "raw"). raw.<template> tables follow the
-- catalog and are created by pipelines/ingest. Append-only, except that a batch rejected whole is
-- re-examined (its raw.batches row rewritten) when sources/*.yaml changed, and raw.inbox_files,
-- which is the inbox as the last load found it.
CREATE TABLE IF NOT EXISTS raw.batches (
    batch_id      VARCHAR PRIMARY KEY,  -- SHA-256 of the file's bytes
    template      VARCHAR NOT NULL,
    file_name     VARCHAR NOT NULL,     -- relative to the inbox: residents/金沙社区.xlsx
    file_size     BIGINT,
    file_format   VARCHAR,              -- csv / xlsx / xlsm / xls (what the bytes are, whatever the name)
    encoding      VARCHAR,              -- utf-8 / utf-8-sig / gbk / gb18030; NULL for xlsx
    header_row    INTEGER,
    loaded_at     TIMESTAMP,
    loaded_on     DATE,                 -- not_future dates may not lie after it
    status        VARCHAR NOT NULL,     -- loaded / rejected
    message       VARCHAR,
    rows_read     INTEGER,
    rows_loaded   INTEGER,
    rows_rejected INTEGER,
    config_hash   VARCHAR,
    batch_no      INTEGER               -- 1, 2, 3 … in load order; core's record_id is built from it
);

-- Stores written before batch_no existed: number their batches in load order, once.
ALTER TABLE raw.batches ADD COLUMN IF NOT EXISTS batch_no INTEGER;
UPDATE raw.batches SET batch_no = n.batch_no
FROM (SELECT batch_id,
             (SELECT coalesce(max(batch_no), 0) FROM raw.batches)
                 + row_number() OVER (ORDER BY loaded_at, batch_id) AS batch_no
      FROM raw.batches WHERE batch_no IS NULL) n
WHERE raw.batches.batch_id = n.batch_id;

CREATE TABLE IF NOT EXISTS raw.row_errors (
    batch_id    VARCHAR NOT NULL,
    template    VARCHAR NOT NULL,
    row_no      INTEGER,               -- NULL for a problem of the whole file (column_unknown)
    record_no   VARCHAR,
    field       VARCHAR,               -- Chinese field name
    column_name VARCHAR,
    value       VARCHAR,
    rule        VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,      -- reject / warn
    message     VARCHAR NOT NULL
);

-- Every file and folder under the inbox as the last load found it, and what became of it:
-- the inbox's answer to a clerk (printed by `onceonly run`). Replaced whole by each load.
CREATE TABLE IF NOT EXISTS raw.inbox_files (
    path      VARCHAR PRIMARY KEY,  -- relative to the inbox; a folder ends in /
    kind      VARCHAR NOT NULL,     -- file / folder
    outcome   VARCHAR NOT NULL,     -- file: loaded / rejected / duplicate / ignored; folder: template / ignored
    reason    VARCHAR,              -- ignored: not_template_folder / inbox_root / unsupported_type / hidden /
                                    -- lock_file / unreadable; duplicate: duplicate
    template  VARCHAR,
    batch_id  VARCHAR,              -- loaded / rejected: its batch; duplicate: the batch it repeats
    file_size BIGINT,
    message   VARCHAR               -- why, in Chinese, naming the path (NULL for a loaded file, a template folder)
);
