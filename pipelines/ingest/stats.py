"""Which inbox files hold the bytes the last load hashed, without reading them again.

A batch is the SHA-256 of its file's bytes (contract §1): every load walks the whole inbox, and at city scale
reading and hashing the files loaded long ago was most of a load that adds one batch. ``scratch.inbox_stats`` keeps,
per file (absolute path), its size, modification and change times and inode as the load that hashed it saw them,
and the batch it was. A file whose stat is the same again has not been written since — a write sets the change time,
which no program can set back — so it is the same batch. A file written within two seconds before it was stat'ed
is not remembered (a file system's clock may be that coarse: a second write in the same tick would leave the same
stat), nor is anything when the table is gone (scratch emptied): those files are read and hashed, as before.
Bookkeeping of this store's inbox, not data: in ``scratch``, never compared or published.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

TABLE = "scratch.inbox_stats"
# How recent a modification may be for the stat to be trusted next time (coarse file system clocks).
RACY_NS = 2_000_000_000


def key(path: Path) -> tuple[int, str, bool]:
    """(size, the stat as one text, whether it may be remembered) of ``path``; raises OSError."""
    st = os.stat(path)
    text = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"
    settled = max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS < time.time_ns()
    return st.st_size, text, settled


def known(conn: duckdb.DuckDBPyConnection, inbox: Path) -> dict[str, tuple[str, str]]:
    """path → (stat text, batch_id) of the files of ``inbox`` the last load remembered."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (path VARCHAR PRIMARY KEY, stat VARCHAR, batch_id VARCHAR)")
    prefix = str(Path(inbox).resolve()) + os.sep
    return {p: (s, b) for p, s, b in conn.execute(
        f"SELECT path, stat, batch_id FROM {TABLE} WHERE starts_with(path, ?)", [prefix]).fetchall()}


def unchanged(remembered: dict[str, tuple[str, str]], path: Path, stat: tuple[int, str, bool]) -> str | None:
    """The batch ``path`` was when its stat was ``stat`` last time, or None (read and hash it)."""
    found = remembered.get(str(Path(path).resolve()))
    return found[1] if found is not None and found[0] == stat[1] else None


def record(conn: duckdb.DuckDBPyConnection, inbox: Path, hashed: dict[Path, tuple[tuple[int, str, bool], str]]) -> None:
    """Replace what is remembered of ``inbox`` by this load's files (path → (stat, batch_id)) whose stat settled."""
    prefix = str(Path(inbox).resolve()) + os.sep
    rows = [(str(Path(p).resolve()), stat[1], batch_id) for p, (stat, batch_id) in hashed.items()
            if stat[2] and batch_id is not None]
    conn.begin()
    try:
        conn.execute(f"DELETE FROM {TABLE} WHERE starts_with(path, ?)", [prefix])
        if rows:
            conn.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?)", rows)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
