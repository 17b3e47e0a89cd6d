"""The home's own small database, ``<home>/portal.sqlite3``: what is written while the store is only read.

The store is rebuilt beside the live version and published whole (pipelines/versions.py); the portal and the
command line open the live version read-only. What must be written at any moment lives here instead:
portal accounts and the portal's audit (pipelines/web/users.py), the record of every file handed out
(pipelines/publish/audit.py) and stewards' decisions waiting for the next build (pipelines/quality/pending.py).
SQLite in WAL mode: readers never wait, one writer at a time, safe for a server's threads and processes.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

_initialised: set[tuple[str, str]] = set()
# One open connection per thread and file, kept: closing the last connection to a WAL database checkpoints it
# (a disk sync), which on every request cost more than the request's own work.
_local = threading.local()


def path(home: Path) -> Path:
    return Path(home) / "portal.sqlite3"


@contextlib.contextmanager
def connect(home: Path, ddl: str) -> Iterator[sqlite3.Connection]:
    """This thread's connection in autocommit mode; ``ddl`` (the caller's CREATE ... IF NOT EXISTS) runs once per
    process. The file is created readable by its owner only: it holds password hashes and who got which file.
    A transaction the block leaves open (an exception between BEGIN and COMMIT) is rolled back."""
    db = path(home)
    conns = _local.__dict__.setdefault("conns", {})
    conn = conns.get(str(db))
    if conn is None or not db.exists():
        if conn is not None:
            conn.close()
        db.parent.mkdir(parents=True, exist_ok=True)
        new = not db.exists()
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        if new:
            os.chmod(db, 0o600)
            _initialised.difference_update({k for k in _initialised if k[0] == str(db)})
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=NORMAL")
        conns[str(db)] = conn
    if (str(db), ddl) not in _initialised:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(ddl)
        _initialised.add((str(db), ddl))
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.rollback()
