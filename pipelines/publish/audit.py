"""The handout record: one row per file handed out (extract or report), whoever asked, in the home's database.

Written to ``<home>/portal.sqlite3`` (pipelines/homedb.py), not to the store: a handout is a write, and the store
is only ever read outside a build, so downloads never wait for one another or for a rebuild. Stores built before
2026-12 kept these rows in ``audit.extracts``; :func:`handouts` still lists them from the live store, and the next
build moves them here (:func:`adopt_store_rows`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb

from pipelines import homedb


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def record(home: Path, *, kind: str, name: str, department: str | None, user: str, scope: str, as_of: dt.date,
           fmt: str, row_count: int, columns: list[str], path: Path, sha256: str, version: str | None = None) -> None:
    record_many(home, [dict(kind=kind, name=name, department=department, user=user, scope=scope, as_of=as_of,
                            fmt=fmt, row_count=row_count, columns=columns, path=path, sha256=sha256,
                            version=version)])


def record_many(home: Path, entries: list[dict]) -> None:
    """Several handouts (a report's HTML, XLSX and list files) in one transaction."""
    if not entries:
        return
    now = dt.datetime.now().isoformat(timespec="microseconds")
    rows = [[e["kind"], e["name"], e["department"], e["user"], e["scope"], _iso(e["as_of"]), e["fmt"],
             int(e["row_count"]), json.dumps(list(e["columns"]), ensure_ascii=False), str(e["path"]), e["sha256"],
             e.get("version"), now] for e in entries]
    with homedb.connect(home) as conn:
        conn.execute("BEGIN")
        conn.executemany("INSERT OR IGNORE INTO handouts (kind, name, department, user_name, scope, as_of, format, "
                         "row_count, columns, file_path, file_sha256, store_version, written_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")


def _iso(value) -> str:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


_COLUMNS = ("written_at", "kind", "name", "department", "user_name", "scope", "as_of", "format", "row_count",
            "file_path", "file_sha256", "store_version")


def handouts(home: Path, since: dt.datetime) -> list[dict]:
    """Every handout since ``since``, oldest first: keys as in ``_COLUMNS`` (``written_at`` a datetime)."""
    with homedb.connect(home) as conn:
        rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM handouts WHERE written_at >= ? "
                            "ORDER BY written_at, id", [since.isoformat(timespec="microseconds")]).fetchall()
    out = [dict(zip(_COLUMNS, r), written_at=dt.datetime.fromisoformat(r[0])) for r in rows]
    seen = {_key(r) for r in out}
    out += [r for r in _store_rows(home, since) if _key(r) not in seen]
    out.sort(key=lambda r: r["written_at"])
    return out


def _key(r: dict) -> tuple:
    return (r["written_at"], r["user_name"], r["file_sha256"], r["file_path"])


def _store_rows(home: Path, since: dt.datetime) -> list[dict]:
    """Rows still kept in the live store's ``audit.extracts`` (a store built before the record moved here)."""
    from pipelines.paths import store_path
    from pipelines.store import Store

    path = store_path(home)
    if not path.exists():
        return []
    try:
        with Store(path).connect(read_only=True, macros=False) as conn:
            return _legacy(conn, since)
    except duckdb.Error:
        return []   # a store that cannot be read here says so where it is used; the home's record is complete


def _legacy(conn: duckdb.DuckDBPyConnection, since: dt.datetime | None = None) -> list[dict]:
    from pipelines.store import table_exists

    if not table_exists(conn, "audit.extracts"):
        return []
    found = conn.execute(
        "SELECT written_at, kind, name, department, user_name, scope, as_of::VARCHAR, format, row_count, file_path, "
        "file_sha256, NULL, to_json(columns)::VARCHAR FROM audit.extracts "
        "WHERE ?::TIMESTAMP IS NULL OR written_at >= ? ORDER BY written_at",
        [since, since]).fetchall()
    return [dict(zip(_COLUMNS, r), columns=r[-1] or "[]") for r in found]


def adopt_store_rows(conn: duckdb.DuckDBPyConnection, home: Path) -> int:
    """Move a store's ``audit.extracts`` rows (kept there before 2026-12) into the home's record and drop the
    table from this store (a build's new version; earlier versions keep theirs and are listed without doubles)."""
    rows = _legacy(conn)
    if not rows:
        return 0
    with homedb.connect(home) as db:
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR IGNORE INTO handouts (written_at, kind, name, department, user_name, scope, as_of, format, "
            "row_count, file_path, file_sha256, store_version, columns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[r["written_at"].isoformat(timespec="microseconds"), *(r[c] for c in _COLUMNS[1:]), r["columns"]]
             for r in rows])
        db.execute("COMMIT")
    conn.execute("DROP TABLE audit.extracts")
    return len(rows)
