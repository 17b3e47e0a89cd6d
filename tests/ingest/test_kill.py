"""kill -9 while the inbox loads, at several moments, then load again: nothing lost, nothing doubled.
Each batch is one transaction, and raw.inbox_files is replaced in one: what a killed load committed
stays, what it had not committed is loaded by the next load, once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.ingest import load_inbox
from pipelines.store import Store
from tests.ingest.conftest import LOADED_ON, RESIDENT_HEADER, resident, write_csv
from tests.ingest.corpus import valid_id, write_corpus

LOADER = """
import sys, datetime as dt
from pathlib import Path
from pipelines.ingest import load_inbox
from pipelines.store import Store
print("ready", flush=True)
with Store(Path(sys.argv[1])).connect() as conn:
    load_inbox(conn, Path(sys.argv[2]), loaded_on=dt.date.fromisoformat(sys.argv[3]))
print("done", flush=True)
"""


def content(store: Store) -> dict[str, list]:
    """What a load keeps, without what only says when or in which order it happened (batch numbers)."""
    queries = {
        "batches": "SELECT batch_id, template, file_name, status, message, rows_read, rows_loaded, rows_rejected "
                   "FROM raw.batches",
        "batch_numbers": "SELECT count(DISTINCT batch_no), count(*) FROM raw.batches",
        "row_errors": "SELECT * FROM raw.row_errors",
        # a batch's number is its place in load order: after a kill, the batches not yet committed get later ones
        "inbox_files": "SELECT * EXCLUDE (message), regexp_replace(message, '#[0-9]+', '#N') FROM raw.inbox_files",
        "raw_rows": "SELECT batch_id, row_no, name, id_number FROM raw.residents",
        "staged": "SELECT batch_id, row_no, name, id_number FROM staging.residents",
        "typed": "SELECT batch_id, template FROM staging.typed_batches",
    }
    with store.connect(read_only=True) as conn:
        return {k: sorted(conn.execute(q).fetchall(), key=repr) for k, q in queries.items()}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kill") / "inbox"
    write_corpus(root)
    for c in range(6):   # big enough that a load takes a few seconds and two batches are often in flight
        rows = [resident(n, name=f"居民{c}-{n}", id_number=valid_id(f"5101{c:02d}19800101{n % 1000:03d}"),
                         房屋编码=f"H{c}{n:05d}", collected="" if n % 211 == 0 else "2024-03-05")
                for n in range(1, 15001)]
        write_csv(root / "residents" / f"社区{c}.csv", RESIDENT_HEADER, rows)
    return root


@pytest.fixture(scope="module")
def reference(inbox, tmp_path_factory) -> dict:
    store = Store(tmp_path_factory.mktemp("clean") / "store.duckdb")
    with store.connect() as conn:
        load_inbox(conn, inbox, loaded_on=LOADED_ON)
    return content(store)


@pytest.mark.slow
@pytest.mark.parametrize("after", [0.3, 1.0, 2.0, 3.5])
def test_a_load_killed_at_any_moment_then_run_again_loses_and_doubles_nothing(inbox, reference, tmp_path, after):
    store = Store(tmp_path / "store.duckdb")
    proc = subprocess.Popen([sys.executable, "-c", LOADER, str(store.path), str(inbox), LOADED_ON.isoformat()],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with store.connect() as conn:
        load_inbox(conn, inbox, loaded_on=LOADED_ON)
    assert content(store) == reference
