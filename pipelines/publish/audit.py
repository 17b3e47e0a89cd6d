"""audit.extracts: one row per file handed out (extract or report), whoever asked."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb

_DDL = """
CREATE TABLE IF NOT EXISTS audit.extracts (
    kind        VARCHAR NOT NULL,   -- extract | report
    name        VARCHAR NOT NULL,   -- extract or report name, e.g. grid-population
    department  VARCHAR,            -- NULL: the store operator (no --dept)
    user_name   VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,   -- 全库 / community:<code> / street:<code>
    as_of       DATE NOT NULL,
    format      VARCHAR NOT NULL,   -- csv | xlsx | parquet | html
    row_count   BIGINT NOT NULL,
    columns     VARCHAR[],
    file_path   VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    written_at  TIMESTAMP NOT NULL
)"""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def record(conn: duckdb.DuckDBPyConnection, *, kind: str, name: str, department: str | None, user: str,
           scope: str, as_of: dt.date, fmt: str, row_count: int, columns: list[str], path: Path,
           sha256: str) -> None:
    record_many(conn, [dict(kind=kind, name=name, department=department, user=user, scope=scope, as_of=as_of,
                            fmt=fmt, row_count=row_count, columns=columns, path=path, sha256=sha256)])


def record_many(conn: duckdb.DuckDBPyConnection, entries: list[dict]) -> None:
    """Several handouts (a report's HTML, XLSX and list files) in one commit: each commit is a disk sync."""
    if not entries:
        return
    conn.execute("CREATE SCHEMA IF NOT EXISTS audit")
    conn.execute(_DDL)
    rows = [[e["kind"], e["name"], e["department"], e["user"], e["scope"], e["as_of"], e["fmt"], e["row_count"],
             list(e["columns"]), str(e["path"]), e["sha256"]] for e in entries]
    one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp())"
    # one statement, so one commit, whatever the number of rows
    conn.execute(f"INSERT INTO audit.extracts VALUES {', '.join([one] * len(rows))}", [v for r in rows for v in r])
