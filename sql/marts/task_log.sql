-- The two histories the follow-up loop keeps (pipelines/marts/tasks.py). Both survive every rebuild:
-- nothing ever drops, replaces, updates or deletes them; a build only appends.
--
-- core.task_log: one row per event in a task's life. A task is one thing someone must do about one
-- person, identified by task_id, which is derived from what is to be done (kind, person, house and the
-- date of the evidence that is out of date, or the assistance record), never from load order.
--   kind   verify (走访核查: a grid worker visits a 待核实 person's house), deregister (注销核查建议: the
--          police check a registration whose holder grid workers found gone), assistance (救助核查: civil
--          affairs check a payment to someone dead, gone or unverified)
--   event  opened (the first build, in as-of order, that finds the task) | closed (the build whose
--          evidence resolves it; closing_* cite that evidence as it was when it closed the task)
CREATE TABLE IF NOT EXISTS core.task_log (
    task_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    event VARCHAR NOT NULL,
    as_of DATE NOT NULL,              -- the 统计截止日期 of the build that wrote the event
    built_at TIMESTAMP NOT NULL,      -- when that build ran: orders two builds of the same as-of
    person_key VARCHAR,
    house_code VARCHAR,
    grid_code VARCHAR,
    subject VARCHAR,                  -- verify/deregister: the date of the presence evidence; assistance: the record
    basis VARCHAR,                    -- opened: why the task exists (the status basis on that date)
    resolution VARCHAR,               -- closed: 核实在住 / 已离开 / 死亡 / 已注销 / 救助已终止 / …
    closing_key VARCHAR,              -- closed: core.evidence.record_key of the closing record
    closing_template VARCHAR,
    closing_batch_id VARCHAR,         -- the closing row by file and row, which do not depend on load order
    closing_row_no INTEGER,
    closing_record_no VARCHAR,
    closing_date DATE,
    closing_detail VARCHAR            -- the closing record as a clerk reads it
);

-- core.grid_history: per grid, what each build found (the series behind the progress chart). A rebuild
-- of the same as-of appends a newer snapshot; readers take the newest snapshot of each as-of.
CREATE TABLE IF NOT EXISTS core.grid_history (
    as_of DATE NOT NULL,
    built_at TIMESTAMP NOT NULL,
    grid_code VARCHAR NOT NULL,
    registered BIGINT,                -- 登记人口
    verified BIGINT,                  -- 实有人口
    unverified BIGINT,                -- 待核实 with a house
    verify_open BIGINT,
    verify_overdue BIGINT,
    verify_closed BIGINT,             -- closed on or before the as-of, all time
    deregister_open BIGINT
);
