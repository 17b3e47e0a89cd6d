"""Typed rows, computed once per batch (docs/architecture.md, "staging").

While a batch is loaded its rows are typed by the staging SQL itself (sql/staging/<template>.sql
rendered with ``incoming=True``) into TEMP table ``_typed``; the row checks read those typed values,
and the rows that pass are kept in ``staging.typed_<template>``. build_staging then copies them
instead of parsing every date and ID of every batch again. The cache is only trusted for batches
typed under the current ``typed_version`` (catalog + SQL); anything else is rebuilt from raw.
"""
from __future__ import annotations

import hashlib

import duckdb

from pipelines.ingest.sqlgen import catalog_hash, render
from pipelines.paths import SQL_DIR
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


def typed_table(template: str) -> str:
    return f"staging.typed_{template}"


def ensure_typed_batches(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS staging.typed_batches "
        "(batch_id VARCHAR PRIMARY KEY, template VARCHAR NOT NULL, version VARCHAR NOT NULL)"
    )


def type_incoming(conn: duckdb.DuckDBPyConnection, catalog: Catalog, template: Template) -> set[str]:
    """TEMP table _typed: _incoming's rows as staging types them; returns its columns."""
    conn.execute(render(f"staging/{template.name}.sql", catalog, t=template, overlay=False, incoming=True))
    return {r[0] for r in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = '_typed' AND database_name = 'temp'").fetchall()}


def keep_typed(conn: duckdb.DuckDBPyConnection, template: str, batch_id: str, version: str) -> None:
    """Append _typed's rows that no check rejected to the cache (inside the batch's transaction)."""
    ensure_typed_batches(conn)
    table = typed_table(template)
    stale = conn.execute("SELECT count(*) FROM staging.typed_batches WHERE template = ? AND version <> ?",
                         [template, version]).fetchall()[0][0]
    if stale:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute("DELETE FROM staging.typed_batches WHERE template = ?", [template])
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM _typed WHERE false")
    conn.execute(
        f"INSERT INTO {table} BY NAME SELECT t.* FROM _typed t WHERE NOT EXISTS ("
        " SELECT 1 FROM raw.row_errors e WHERE e.batch_id = ? AND e.row_no = t.row_no AND e.severity = 'reject')",
        [batch_id])
    conn.execute("INSERT OR REPLACE INTO staging.typed_batches VALUES (?, ?, ?)", [batch_id, template, version])


def typed_complete(conn: duckdb.DuckDBPyConnection, template: str, version: str) -> bool:
    """Whether every loaded batch of ``template`` has its typed rows cached under ``version``."""
    ensure_typed_batches(conn)
    if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'staging' AND table_name = ?",
                        [f"typed_{template}"]).fetchall()[0][0]:
        return False
    return not conn.execute(
        "SELECT count(*) FROM raw.batches b WHERE b.template = ? AND b.status = 'loaded' AND NOT EXISTS ("
        " SELECT 1 FROM staging.typed_batches k WHERE k.batch_id = b.batch_id AND k.version = ?)",
        [template, version]).fetchall()[0][0]


def refill_typed(conn: duckdb.DuckDBPyConnection, template: str, version: str) -> None:
    """After staging.<template> was rebuilt from raw with no correction standing, it is exactly the
    cache's content: keep it, so the next build copies again."""
    ensure_typed_batches(conn)
    conn.execute(f"CREATE OR REPLACE TABLE {typed_table(template)} AS SELECT * FROM staging.{template}")
    conn.execute("DELETE FROM staging.typed_batches WHERE template = ?", [template])
    conn.execute("INSERT INTO staging.typed_batches SELECT batch_id, template, ? FROM raw.batches "
                 "WHERE template = ? AND status = 'loaded'", [version, template])
