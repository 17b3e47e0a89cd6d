"""Typed rows, computed once per batch (docs/architecture.md, "staging").

While a batch is loaded its rows are typed by the staging SQL itself (sql/staging/_template.sql
rendered with ``incoming=True``) into TEMP table ``_typed``; the row checks read those typed values,
and the rows no check rejected are appended to staging.<template> straight away. build_staging then
has nothing to do for that template. This holds only while staging.<template> is exactly "raw typed,
minus rejected rows" for every loaded batch, under the current ``typed_version`` (catalog + SQL):
staging.typed_batches lists the batches it holds. A steward's fix (the overlay), a catalog or SQL
change, or a batch loaded while that was not so, makes build_staging rebuild it whole from raw.
"""
from __future__ import annotations

import hashlib

import duckdb

from pipelines.ingest.sqlgen import STAGING_SQL, catalog_hash, render
from pipelines.paths import SQL_DIR
from pipelines.store import table_exists
from pipelines.sources import Catalog, Template

# The SQL a typed row depends on: its change invalidates every cached typed row.
_VERSIONED_SQL = ("staging", "macros")


def typed_version(catalog: Catalog) -> str:
    """Changes whenever the catalog or any staging/macro SQL changes."""
    h = hashlib.sha256(catalog_hash(catalog).encode())
    for folder in _VERSIONED_SQL:
        for path in sorted((SQL_DIR / folder).glob("*.sql")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def ensure_typed_batches(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS staging.typed_batches "
        "(batch_id VARCHAR PRIMARY KEY, template VARCHAR NOT NULL, version VARCHAR NOT NULL)"
    )


def type_incoming(conn: duckdb.DuckDBPyConnection, catalog: Catalog, template: Template) -> set[str]:
    """TEMP table _typed: _incoming's rows as staging types them; returns its columns."""
    conn.execute(render(STAGING_SQL, catalog, t=template, overlay=False, incoming=True))
    return {name for name, _ in _typed_columns(conn)}


def _typed_columns(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, type) of TEMP table _typed's columns, in order."""
    return conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'temp' "
        "AND table_name = '_typed' ORDER BY column_index").fetchall()


def typed_complete(conn: duckdb.DuckDBPyConnection, template: str, version: str) -> bool:
    """Whether staging.<template> holds the typed rows of every loaded batch, typed under ``version``."""
    ensure_typed_batches(conn)
    if not table_exists(conn, f"staging.{template}"):
        return False
    return not conn.execute(
        "SELECT count(*) FROM raw.batches b WHERE b.template = ? AND b.status = 'loaded' AND NOT EXISTS ("
        " SELECT 1 FROM staging.typed_batches k WHERE k.batch_id = b.batch_id AND k.version = ?)",
        [template, version]).fetchall()[0][0]


def keep_typed(conn: duckdb.DuckDBPyConnection, template: str, batch_id: str, version: str) -> None:
    """Append _typed's rows that no check rejected to staging.<template>, when it is current
    (called inside the batch's transaction, before the batch is written to raw.batches; staging.typed_batches
    exists: ensure_raw_tables made it before the loading threads started)."""
    first = not conn.execute(
        "SELECT count(*) FROM raw.batches WHERE template = ? AND status = 'loaded'", [template]).fetchall()[0][0]
    if first:  # whatever staging.<template> held (an empty table, perhaps of older SQL) holds no batch
        # Declared column by column, not `AS SELECT * FROM _typed WHERE false`: DuckDB 2.0 loses sight of
        # rows appended in the transaction that created a table by CREATE TABLE AS once they exceed a row
        # group (≈ 122k rows; same process, after commit) — tests/staging/test_typed_cache.py keeps the case.
        conn.execute(f"CREATE OR REPLACE TABLE staging.{template} ("
                     + ", ".join(f'"{name}" {kind}' for name, kind in _typed_columns(conn)) + ")")
    elif not typed_complete(conn, template, version):
        return  # build_staging rebuilds it whole
    conn.execute(
        f"INSERT INTO staging.{template} BY NAME SELECT t.* FROM _typed t WHERE NOT EXISTS ("
        " SELECT 1 FROM raw.row_errors e WHERE e.batch_id = ? AND e.row_no = t.row_no AND e.severity = 'reject')",
        [batch_id])
    conn.execute("INSERT OR REPLACE INTO staging.typed_batches VALUES (?, ?, ?)", [batch_id, template, version])


def mark_typed(conn: duckdb.DuckDBPyConnection, template: str, version: str | None) -> None:
    """After staging.<template> was rebuilt whole: with ``version`` (no correction stood) it holds
    every loaded batch's typed rows; with None (corrected values) it is no typed copy of raw."""
    ensure_typed_batches(conn)
    conn.execute("DELETE FROM staging.typed_batches WHERE template = ?", [template])
    if version is not None:
        conn.execute("INSERT INTO staging.typed_batches SELECT batch_id, template, ? FROM raw.batches "
                     "WHERE template = ? AND status = 'loaded'", [version, template])
