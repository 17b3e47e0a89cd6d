"""How a run holds the store: one open database for all its steps (Store.held_open, StoreResource), and a
clear message when another program has the file open."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import duckdb
import pytest

from pipelines.demo.generate import generate
from pipelines.resources import StoreResource
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


def _holder(path, seconds: float | None = None) -> subprocess.Popen:
    """Another process holding the store open, until stdin closes or for ``seconds``."""
    release = f"time.sleep({seconds})" if seconds is not None else "sys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               f"print('open', flush=True); {release}", str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


@pytest.fixture
def small_home(tmp_path):
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    generate(inbox, tmp_path / "truth", persons=300)
    home.mkdir()
    duckdb.connect(str(home / "store.duckdb")).close()
    return home, inbox


def test_a_run_waits_for_a_store_held_for_a_moment(small_home):
    home, inbox = small_home
    holder = _holder(home / "store.duckdb", seconds=2)
    started = time.monotonic()
    summary = run_pipeline(home=home, inbox=inbox, as_of=dt.date(2026, 10, 31))
    holder.wait()
    assert summary.success, summary.error
    assert time.monotonic() - started > 1.5


def test_a_run_on_a_store_another_program_holds_says_so(small_home):
    home, inbox = small_home
    holder = _holder(home / "store.duckdb")
    started = time.monotonic()
    try:
        summary = run_pipeline(home=home, inbox=inbox, as_of=dt.date(2026, 10, 31))
    finally:
        holder.communicate("")
    assert not summary.success
    assert summary.error.startswith(f"数据库正被另一个程序（进程号 {holder.pid}）打开"), summary.error
    assert time.monotonic() - started >= StoreResource.model_fields["lock_wait_seconds"].default
