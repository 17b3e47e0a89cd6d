"""The marts, for one as-of date D: the only tables reports, person lists, extracts and portal pages read.

``marts.persons``, ``marts.houses`` and ``marts.grids`` place every person with a status on D (category, flags,
the attributes outputs print); ``marts.population_by_grid`` is 实有人口 by grid, defined there once.
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

from pipelines.store import Store, sql_text, table_exists

# What every output reads (reports, person lists, extracts, portal pages): persons, houses and grids as of D,
# then 实有人口 by grid, defined there once.
OUTPUT_MARTS = ("marts/persons.sql", "marts/population_by_grid.sql", "marts/address_matches.sql")
MART_FILES = (*OUTPUT_MARTS, "marts/grid_population.sql", "marts/person_sources.sql", "marts/assistance_check.sql")

# The portal's pages read these (pipelines/web): small aggregates of the person and issue tables, per version.
PORTAL_MARTS = {"portal_areas": "marts/portal_areas.sql", "portal_dates": "marts/portal_dates.sql",
                "portal_issue_counts": "marts/portal_issue_counts.sql"}

__all__ = ["PORTAL_MARTS", "build_marts", "build_output_marts", "build_portal_marts", "portal_source"]


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


def build_output_marts(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date) -> None:
    """Only the tables outputs read (OUTPUT_MARTS), for a store whose core.person_status describes ``as_of``."""
    for relative in OUTPUT_MARTS:
        Store.run_sql(conn, relative, as_of=as_of)


def build_portal_marts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The portal's aggregate tables (after the steward queue); returns their row counts."""
    for name, relative in PORTAL_MARTS.items():
        conn.execute(f"CREATE OR REPLACE TABLE marts.{name} AS {sql_text(relative)}")
    return {name: conn.execute(f"SELECT count(*) FROM marts.{name}").fetchall()[0][0] for name in PORTAL_MARTS}


def portal_source(conn: duckdb.DuckDBPyConnection, name: str, tables: frozenset[str] | None = None) -> str:
    """``marts.<name>``, or its query as a subquery in a store published before the table existed (``tables``:
    what the store holds, when the caller knows)."""
    known = f"marts.{name}" in tables if tables is not None else table_exists(conn, f"marts.{name}")
    return f"marts.{name}" if known else f"({sql_text(PORTAL_MARTS[name])})"
