"""How a run holds the store: one open database for all its steps (Store.held_open, StoreResource), never the
live version readers have open (pipelines/versions.py)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import duckdb
import pytest

from pipelines.demo.generate import generate
from pipelines.runner import run_pipeline
from pipelines.store import MACRO_CATALOG, Store


def _other_process_opens(path) -> str:
    done = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}, read_only=True)"],
                          capture_output=True, text=True)
    return done.stderr


def test_connections_inside_held_open_share_one_writable_database(tmp_path):
    store = Store(tmp_path / "store.duckdb")
    with store.held_open():
        with store.connect(macros=False) as first:
            first.execute("CREATE TABLE t AS SELECT 1 AS x")
            first.execute("CREATE TEMP TABLE mine AS SELECT 1 AS y")
        with store.connect() as second:
            second.execute("INSERT INTO t VALUES (2)")
            assert second.execute("SELECT sum(x) FROM t").fetchall() == [(3,)]
            # each connection has its own TEMP tables, and the macros when asked for
            with pytest.raises(duckdb.CatalogException):
                second.execute("SELECT * FROM mine")
            assert second.execute("SELECT id_mask('510104199001011234')").fetchall()[0][0] == "510104********1234"
        # the file stays locked for the whole block, not only while a connection is open
        assert "Conflicting lock" in _other_process_opens(store.path)
    assert _other_process_opens(store.path) == ""
    with store.connect(read_only=True) as conn:
        assert conn.execute("SELECT sum(x) FROM t").fetchall() == [(3,)]


def test_macros_are_loaded_once_per_open_database_and_never_written_to_the_store(tmp_path):
    store = Store(tmp_path / "store.duckdb")
    with store.held_open():
        with store.connect() as first, store.connect() as second:
            assert first.execute("SELECT id_mask('510104199001011234')").fetchall()[0][0] == "510104********1234"
            # both find the one copy on their search path: replacing it in one is seen by the other
            first.execute(f"CREATE OR REPLACE MACRO {MACRO_CATALOG}.main.id_mask(x) AS 'replaced'")
            assert second.execute("SELECT id_mask('510104199001011234')").fetchall()[0][0] == "replaced"
        with store.connect(macros=False) as plain, pytest.raises(duckdb.CatalogException):
            plain.execute("SELECT id_mask('510104199001011234')")
    # a read-only connection has them too (held in memory), and the file holds no macro or macro table
    with store.connect(read_only=True) as conn:
        assert conn.execute("SELECT cn_date('2024年3月5日')").fetchall()[0][0] == dt.date(2024, 3, 5)
        written = conn.execute("SELECT count(*) FROM duckdb_functions() WHERE database_name = current_database() "
                               "AND function_type = 'macro'").fetchall()[0][0]
        written += conn.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                                "AND table_name = 'gb2260_region_codes'").fetchall()[0][0]
        assert written == 0


def _holder(path) -> subprocess.Popen:
    """Another process holding the store open read-only (as the portal does), until stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
                               "print('open', flush=True); sys.stdin.read()", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


@pytest.fixture
def small_home(tmp_path):
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    generate(inbox, tmp_path / "truth", persons=300)
    assert run_pipeline(home=home, inbox=inbox, as_of=dt.date(2026, 10, 31)).published
    return home, inbox


def test_a_run_does_not_wait_for_readers_of_the_live_version(small_home):
    """Readers hold the live version (a read-only file lock); a run builds another file beside it, publishes, and
    the reader keeps the version it opened until it lets go."""
    home, inbox = small_home
    holder = _holder(home / "store.duckdb")
    try:
        summary = run_pipeline(home=home, inbox=inbox, as_of=dt.date(2026, 10, 31))
        assert summary.success and summary.published, summary.error
        assert summary.version == "000002"
        # the holder still has version 1 open; the link names version 2
        assert "versions/000002/" in str((home / "store.duckdb").resolve())
    finally:
        holder.communicate("")
    assert holder.returncode == 0
