"""A file the last load hashed is not read again while its stat is the same (pipelines/ingest/stats.py); a file
written since — even to the same size with its modification time set back — is read, hashed and loaded as the new
batch it is."""
from __future__ import annotations

import os
import time
from pathlib import Path

from pipelines.ingest import load_inbox, stats
from pipelines.store import Store
from tests.ingest.conftest import LOADED_ON, RESIDENT_HEADER, resident, write_csv


def _load(store, inbox, catalog):
    with store.connect() as conn:
        return load_inbox(conn, inbox, loaded_on=LOADED_ON, catalog=catalog)


def _reads(monkeypatch, inbox: Path) -> list[str]:
    """The inbox's files read (Path.read_bytes) from now on."""
    seen: list[str] = []
    original = Path.read_bytes

    def counting(self):
        if inbox in self.parents:
            seen.append(self.name)
        return original(self)
    monkeypatch.setattr(Path, "read_bytes", counting)
    return seen


def test_an_unchanged_file_is_not_read_again_and_a_rewritten_one_is(store, catalog, inbox, monkeypatch):
    path = write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, [resident(1, name="张三")])
    fresh = write_csv(inbox / "residents" / "b.csv", RESIDENT_HEADER, [resident(1, name="李四")])
    time.sleep(stats.RACY_NS / 1e9 + 0.2)     # settled: a file written within the clock's tick is not remembered
    [first, _] = _load(store, inbox, catalog)
    assert first.status == "loaded"
    reads = _reads(monkeypatch, inbox)
    [again, _] = _load(store, inbox, catalog)
    assert (again.status, again.reason, again.batch_id) == ("skipped", "seen_before", first.batch_id)
    assert reads == []                        # neither file was read: both were hashed by the first load

    # The same number of bytes, another name, the modification time set back: the change time still moved.
    before = os.stat(path)
    write_csv(path, RESIDENT_HEADER, [resident(1, name="王五")])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size and os.stat(path).st_mtime_ns == before.st_mtime_ns
    [changed, _] = _load(store, inbox, catalog)
    assert reads == ["a.csv"]
    assert changed.status == "loaded" and changed.batch_id != first.batch_id
    with store.connect(read_only=True) as conn:
        assert conn.execute("SELECT name FROM raw.residents WHERE batch_id = ?",
                            [changed.batch_id]).fetchall() == [("王五",)]
    assert fresh.exists()


def test_a_file_written_just_now_is_hashed_again(store, catalog, inbox, monkeypatch):
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, [resident(1)])
    _load(store, inbox, catalog)              # within the clock's tick of the write: not remembered
    reads = _reads(monkeypatch, inbox)
    _load(store, inbox, catalog)
    assert reads == ["a.csv"]
