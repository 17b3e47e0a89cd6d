"""The home's own database, ``<home>/portal.sqlite3``: everything written while the store is only read.

The store is rebuilt beside the live version and published whole (pipelines/versions.py); the portal and the
command line open the live version read-only, and ``onceonly run`` holds the version it builds for minutes.
What must be written at any moment lives here instead, in one SQLite file (WAL: readers never wait, one writer
at a time, safe for the server's threads and for a command running beside the server):

- portal accounts (pipelines/web/users.py), sessions (pipelines/web/sessions.py) and login throttling
  (pipelines/web/throttle.py);
- the audit trail of the portal and the command line: every write goes through :func:`record` (one plain
  :class:`AuditEvent` each), so one place decides how an event is stored, whoever writes it;
- the record of every file handed out (``handouts``, pipelines/publish/audit.py);
- stewards' decisions waiting for the next build (``pending_corrections``, ``pending_address_aliases``,
  pipelines/quality/pending.py).

The whole schema is here, created on the first connection of a process.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path

_DDL = """
CREATE TABLE IF NOT EXISTS users (
    username    TEXT PRIMARY KEY,
    pw_hash     TEXT NOT NULL,
    dept        TEXT NOT NULL,       -- a department of reports/departments.yaml
    scope_level TEXT NOT NULL,       -- grid | community | street
    scope_code  TEXT NOT NULL,       -- code in core.grids
    scope_name  TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    pw_version  INTEGER NOT NULL DEFAULT 1,   -- bumped on every reset
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,     -- sha256 of the cookie's random id (the id itself is never stored)
    user       TEXT,                 -- NULL before login (the session holds the login form's CSRF token)
    csrf       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',   -- small state between pages (flash messages), JSON
    ip         TEXT,
    created_at REAL NOT NULL,        -- unix time
    last_seen  REAL NOT NULL,
    ended_at   REAL,                 -- a logged-in session is kept ended for a while, to name a replayed cookie
    ended_why  TEXT                  -- logout | idle | lifetime | reset | disabled | login
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user, ended_at);
CREATE INDEX IF NOT EXISTS sessions_ended ON sessions(ended_at);
CREATE TABLE IF NOT EXISTS login_throttle (
    key          TEXT PRIMARY KEY,   -- pair:<user>\\n<address> | addr:<address> | user:<user>
    failures     INTEGER NOT NULL,
    last_at      REAL NOT NULL,
    locked_until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_known (  -- addresses a user has logged in from (exempt from the per-account limit)
    user    TEXT NOT NULL,
    ip      TEXT NOT NULL,
    last_ok REAL NOT NULL,
    PRIMARY KEY (user, ip)
);
CREATE TABLE IF NOT EXISTS audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,            -- local time, ISO 8601
    user   TEXT,
    dept   TEXT,
    action TEXT NOT NULL,            -- login | login_failed | logout | view | download | fix | waive | upload |
                                     -- refused | extract | explain | user_add | user_disable | user_reset
    what   TEXT,                     -- what was asked: the object, or the request with its parameters
    scope  TEXT,                     -- the jurisdiction asked for or served
    result TEXT NOT NULL,            -- ok | refused | incomplete | partial | error
    detail TEXT,                     -- why (for a refusal), rows, checksum, bytes sent
    ip     TEXT,
    source TEXT NOT NULL DEFAULT 'portal'   -- portal | cli
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
-- the record of every file handed out, whoever asked (pipelines/publish/audit.py)
CREATE TABLE IF NOT EXISTS handouts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,   -- extract | report
    name        TEXT NOT NULL,   -- extract or report name, e.g. grid-population
    department  TEXT,            -- NULL: the store operator (no --dept)
    user_name   TEXT NOT NULL,
    scope       TEXT NOT NULL,   -- 全库 / community:<code> / street:<code>
    as_of       TEXT NOT NULL,   -- ISO date
    format      TEXT NOT NULL,   -- csv | xlsx | parquet | html
    row_count   INTEGER NOT NULL,
    columns     TEXT NOT NULL,   -- JSON list
    file_path   TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    store_version TEXT,          -- the store version the file was made from (pipelines/versions.py)
    written_at  TEXT NOT NULL,   -- local time, ISO 8601 with microseconds
    UNIQUE (written_at, user_name, file_sha256, file_path)
);
CREATE INDEX IF NOT EXISTS handouts_at ON handouts(written_at);
-- stewards' decisions waiting for the next build (pipelines/quality/pending.py)
CREATE TABLE IF NOT EXISTS pending_corrections (
    correction_id TEXT PRIMARY KEY, issue_id TEXT NOT NULL, template TEXT, batch_id TEXT, row_no INTEGER,
    record_key TEXT, field TEXT, old_value TEXT, new_value TEXT, action TEXT NOT NULL, reason TEXT,
    "by" TEXT NOT NULL, "at" TEXT NOT NULL,
    published_in TEXT            -- the first published version whose store holds it; NULL: waiting
);
CREATE INDEX IF NOT EXISTS pending_waiting ON pending_corrections(published_in);
-- stewards' address decisions waiting for the next build (quality.address_aliases' columns)
CREATE TABLE IF NOT EXISTS pending_address_aliases (
    alias_id TEXT PRIMARY KEY, kind TEXT NOT NULL, spelling TEXT NOT NULL, spelling_key TEXT NOT NULL,
    context TEXT, context_key TEXT, target TEXT, target_key TEXT, action TEXT NOT NULL, reason TEXT,
    "by" TEXT NOT NULL, "at" TEXT NOT NULL,
    published_in TEXT
);
DROP TABLE IF EXISTS login_failures;
"""

_initialised: set[str] = set()
# One open connection per thread and file, kept: closing the last connection to a WAL database checkpoints it
# (a disk sync), which on every request cost more than the request's own work.
_local = threading.local()


def path(home: Path) -> Path:
    return Path(home) / "portal.sqlite3"


@contextlib.contextmanager
def connect(home: Path) -> Iterator[sqlite3.Connection]:
    """This thread's connection in autocommit mode (``BEGIN IMMEDIATE`` where a read and a write must be one step).
    The file is created readable by its owner only: it holds password hashes and who got which file. A transaction
    the block leaves open (an exception between BEGIN and COMMIT) is rolled back."""
    db = path(home)
    key = str(db)
    conns = _local.__dict__.setdefault("conns", {})
    conn = conns.get(key)
    if conn is None or not db.exists():
        if conn is not None:
            conn.close()
        db.parent.mkdir(parents=True, exist_ok=True)
        new = not db.exists()
        conn = sqlite3.connect(db, timeout=10, isolation_level=None)
        if new:
            os.chmod(db, 0o600)
            _initialised.discard(key)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=NORMAL")
        conns[key] = conn
    if key not in _initialised:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_DDL)
        if "source" not in {r[1] for r in conn.execute("PRAGMA table_info(audit)").fetchall()}:
            # a portal database written before the command line was audited here
            conn.execute("ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT 'portal'")
        _initialised.add(key)
    outer = conn.in_transaction     # a connect() inside transaction() shares its connection and its transaction
    try:
        yield conn
    finally:
        if conn.in_transaction and not outer:
            conn.rollback()


@contextlib.contextmanager
def transaction(home: Path) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: takes the write lock first, so a check and the write it decides
    are one step even for requests arriving at the same instant."""
    with connect(home) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit trail. ``what``: what was asked (for a refusal, the request with its
    parameters); ``scope``: the jurisdiction asked for; ``detail``: why, or what was handed out."""
    action: str
    result: str = "ok"
    user: str | None = None
    dept: str | None = None
    what: str | None = None
    scope: str | None = None
    detail: str | None = None
    ip: str | None = None
    source: str = "portal"


_LIMITS = {"user": 80, "dept": 40, "what": 600, "scope": 200, "detail": 2000, "ip": 64}
# control characters (tabs and newlines included) would let a typed value forge lines of `onceonly audit`
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _clean(name: str, value):
    if value is None or name not in _LIMITS:
        return value
    text = escape_controls(str(value))
    limit = _LIMITS[name]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(home: Path, *events: AuditEvent) -> None:
    """Append ``events`` to the audit trail, in one transaction (values from a browser or a command line
    are cut to length and their control characters escaped)."""
    if not events:
        return
    names = [f.name for f in fields(AuditEvent)]
    at = dt.datetime.now().isoformat(timespec="seconds")
    rows = [[at] + [_clean(n, v) for n, v in zip(names, astuple(e))] for e in events]
    with connect(home) as conn:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO audit (at, {', '.join(names)}) VALUES (?{', ?' * len(names)})", rows)
        conn.execute("COMMIT")
