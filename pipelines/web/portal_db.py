"""The portal's own database, ``<home>/portal.sqlite3``: accounts, sessions, login throttling and the
audit trail of the portal and the command line.

Why not the DuckDB store: DuckDB allows one writer process, and ``onceonly run`` holds the store for
minutes. Logins, page views and refusals must be recorded even then, so they go to a small SQLite file
(WAL, safe for the server's threads and for a command running beside the server) next to the store.

Every audit write goes through :func:`record` (one plain :class:`AuditEvent` each): one place decides
how an event is stored, whoever writes it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
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
DROP TABLE IF EXISTS login_failures;
"""

_initialised: set[str] = set()


def portal_db(home: Path) -> Path:
    return Path(home) / "portal.sqlite3"


@contextlib.contextmanager
def connect(home: Path) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (``BEGIN IMMEDIATE`` where a read and a write must be one step)."""
    path = portal_db(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        if new:
            os.chmod(path, 0o600)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=NORMAL")
        if str(path) not in _initialised:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_DDL)
            if "source" not in {r[1] for r in conn.execute("PRAGMA table_info(audit)").fetchall()}:
                # a portal database written before the command line was audited here
                conn.execute("ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT 'portal'")
            _initialised.add(str(path))
        yield conn
    finally:
        conn.close()


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
