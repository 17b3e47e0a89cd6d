"""Typed rows appended to staging at load (pipelines/ingest/typed.py) must equal a rebuild from raw,
and a staging table that is not current must be rebuilt."""
from __future__ import annotations

import pytest

from pipelines.ingest.typed import typed_complete, typed_version
from pipelines.staging import staging_sql
from pipelines.ingest import load_inbox
from tests.ingest.conftest import LOADED_ON, RESIDENT_HEADER, resident, write_csv
from tests.staging.test_build_staging import build


def _rows():
    return [resident(1), resident(2, birth="1990-02-30"), resident(3, id_number="510104199001010018"),
            resident(4, 人员类别="外籍", 人员标签="党员;火星人"), resident(5, sex="女")]


def test_copied_typed_rows_equal_a_rebuild_from_raw(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, _rows())
    write_csv(inbox / "residents" / "b.csv", RESIDENT_HEADER, _rows()[:2], "gbk")
    build(store, inbox, catalog)
    with store.connect() as conn:
        assert typed_complete(conn, "residents", typed_version(catalog))
        copied = conn.execute("SELECT * FROM staging.residents ORDER BY batch_id, row_no").fetchall()
        conn.execute(staging_sql("residents", catalog, overlay=False))
        rebuilt = conn.execute("SELECT * FROM staging.residents ORDER BY batch_id, row_no").fetchall()
    assert copied == rebuilt
    assert len(copied) == 4 + 1  # a.csv: rows 1, 3, 4, 5 (row 2 rejected); b.csv: row 1


def test_a_stale_cache_is_rebuilt_from_raw(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, _rows())
    build(store, inbox, catalog)
    with store.connect() as conn:
        conn.execute("UPDATE staging.typed_batches SET version = 'old'")
        conn.execute("DELETE FROM staging.residents")  # kept as is, it would now hold no rows
        assert not typed_complete(conn, "residents", typed_version(catalog))
    _, counts = build(store, inbox, catalog)
    assert counts["residents"] == 4
    with store.connect() as conn:
        assert typed_complete(conn, "residents", typed_version(catalog))
    write_csv(inbox / "residents" / "b.csv", RESIDENT_HEADER, _rows()[:1])
    with store.connect() as conn:  # loaded while staging is current: appended at once
        load_inbox(conn, inbox, loaded_on=LOADED_ON, catalog=catalog)
        assert conn.execute("SELECT count(*) FROM staging.residents").fetchall() == [(5,)]


@pytest.mark.slow   # a batch of more than a row group of rows
def test_a_first_batch_larger_than_a_row_group_is_all_in_staging(store, catalog, tmp_path):
    """130,000 rows (> DuckDB's 122,880-row group) as a template's first batch: every typed row must be
    readable in the same process right after the load. With the staging table made by CREATE TABLE AS
    in the batch's transaction, DuckDB 2.0 showed none of them until the store was reopened."""
    inbox = tmp_path / "inbox"
    rows = [resident(i) for i in range(1, 130_001)]
    write_csv(inbox / "residents" / "big.csv", RESIDENT_HEADER, rows)
    with store.connect() as conn:
        [result] = load_inbox(conn, inbox, loaded_on=LOADED_ON, catalog=catalog)
        assert result.rows_loaded == 130_000
        assert conn.execute("SELECT count(*), count(DISTINCT batch_id), count(DISTINCT row_no) "
                            "FROM staging.residents").fetchall() == [(130_000, 1, 130_000)]
