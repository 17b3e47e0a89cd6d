"""The tables behind the contract extracts (contract §3), for one as-of date D.

``marts.grid_population``, ``marts.person_sources``, ``marts.assistance_check``,
``marts.verification_tasks`` and ``marts.deregistration_feedback`` carry the contract's Chinese column
names in order (``marts.assistance_flagged``: assistance-check's rows with their recipient and record); ``marts.tasks``
holds the follow-up tasks known on D (pipelines/marts/tasks.py). They read
``core.person_status``; when that table describes another date it is rebuilt for D first (keeping its
freshness window).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.store import Store, table_exists

MART_FILES = ("marts/grid_population.sql", "marts/person_sources.sql", "marts/assistance_check.sql")

__all__ = ["build_marts"]


def _status_date(conn: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, int]:
    if not table_exists(conn, "core.person_status"):
        return None, 365
    row = conn.execute("SELECT max(as_of), max(freshness_days) FROM core.person_status").fetchall()[0]
    return row[0], row[1] or 365


def build_marts(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date, record_tasks: bool = False) -> None:
    """``record_tasks``: this is a build (the pipeline's marts step), which appends to the task ledger and
    the grid history; otherwise (an extract for another date) the task marts are computed, nothing kept."""
    from pipelines.marts.tasks import build_tasks
    from pipelines.status import build_status

    current, window = _status_date(conn)
    if current != as_of:
        build_status(conn, as_of=as_of, freshness_days=window)
    for relative in MART_FILES:
        Store.run_sql(conn, relative, as_of=as_of)
    build_tasks(conn, as_of=as_of, record=record_tasks)
