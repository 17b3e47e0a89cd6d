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

from pipelines.store import Store, table_exists

# The person marts: a view of their rows (every person's, or an incremental build's persons': sql/marts/delta.sql),
# stored whole or added to the rows kept (_add), in this order (population_by_grid counts marts.persons).
PERSON_MARTS = {"persons": "marts/persons.sql", "population_by_grid": "marts/population_by_grid.sql"}
# Rebuilt whole by every build.
WHOLE_MARTS = ("marts/grid_population.sql", "marts/assistance_check.sql")

# The portal's pages read these (pipelines/web): small aggregates of the person and issue tables, per version.
PORTAL_MARTS = {"portal_areas": "marts/portal_areas.sql", "portal_dates": "marts/portal_dates.sql",
                "portal_issue_counts": "marts/portal_issue_counts.sql"}

__all__ = ["PORTAL_MARTS", "build_marts", "build_output_marts", "build_portal_marts"]


def _status_date(conn: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, int]:
    if not table_exists(conn, "core.person_status"):
        return None, 365
    row = conn.execute("SELECT max(as_of), max(freshness_days) FROM core.person_status").fetchall()[0]
    return row[0], row[1] or 365


def _add(conn: duckdb.DuckDBPyConnection, table: str, delta: bool) -> None:
    """marts.<table> from the view <table>_rows its file made: whole, or (``delta``) added to the rows kept."""
    verb = f"INSERT INTO marts.{table} BY NAME" if delta else f"CREATE OR REPLACE TABLE marts.{table} AS"
    conn.execute(f"{verb} SELECT * FROM {table}_rows")
    conn.execute(f"DROP VIEW {table}_rows")


def _output_marts(conn: duckdb.DuckDBPyConnection, as_of: dt.date, delta: bool) -> None:
    """What outputs read (places, persons, 实有人口 by grid, address matches); ``delta``: only the rows of the
    persons a batch changed, and of the grids they left or entered, are built again."""
    if delta:
        Store.run_sql(conn, "marts/delta_places.sql")
    Store.run_sql(conn, "marts/places.sql")
    if delta:
        Store.run_sql(conn, "marts/delta.sql", as_of=as_of)
    Store.run_sql(conn, PERSON_MARTS["persons"], as_of=as_of, marts_delta=delta)
    _add(conn, "persons", delta)
    conn.execute("DROP TABLE mp_links")
    if delta:
        Store.run_sql(conn, "marts/delta_grids.sql")
    Store.run_sql(conn, PERSON_MARTS["population_by_grid"], as_of=as_of, marts_delta=delta)
    _add(conn, "population_by_grid", delta)
    if conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                    "AND table_name = 'address_matches'").fetchall()[0][0]:
        conn.execute("DROP TABLE marts.address_matches")  # a copy, as stores before 2026-12-07 held it
    Store.run_sql(conn, "marts/address_matches.sql")


def build_marts(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date, record_tasks: bool = False,
                incremental: bool = False) -> str:
    """``record_tasks``: this is a build (the pipeline's marts step), which appends to the task ledger and
    the grid history; otherwise (an extract for another date) the task marts are computed, nothing kept.
    ``incremental`` (a build): the person marts' rows only for the persons status replaced (scratch.person_delta)
    and those whose house or micro-grid row changed, when the last marts were built by the same code for the same
    date (pipelines/status/delta.py). Returns how: 'full' or 'delta'."""
    from pipelines.marts.tasks import build_tasks
    from pipelines.status import build_status, delta

    current, window = _status_date(conn)
    if current != as_of:
        build_status(conn, as_of=as_of, freshness_days=window)
    fingerprint = delta.marts_fingerprint(as_of)
    kept = ("marts.persons", "marts.houses", "marts.grids", "marts.population_by_grid", "marts.person_sources",
            "marts.deregistration_feedback")
    is_delta = incremental and delta.can_keep(conn, "marts", fingerprint, "scratch.person_delta", *kept)
    _output_marts(conn, as_of, is_delta)
    Store.run_sql(conn, "marts/person_sources.sql", as_of=as_of, marts_delta=is_delta)
    _add(conn, "person_sources", is_delta)
    Store.run_sql(conn, "marts/deregistration_feedback.sql", as_of=as_of, marts_delta=is_delta)
    _add(conn, "deregistration_feedback", is_delta)
    for relative in WHOLE_MARTS:
        Store.run_sql(conn, relative, as_of=as_of)
    conn.execute("DROP TABLE IF EXISTS scratch.person_delta")
    conn.execute("DROP TABLE IF EXISTS _marts_delta")
    conn.execute("DROP TABLE IF EXISTS _marts_grids")
    delta.remember(conn, "marts", fingerprint)
    build_tasks(conn, as_of=as_of, record=record_tasks)
    return "delta" if is_delta else "full"


def build_output_marts(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date) -> None:
    """Only the tables outputs read, whole, for a store whose core.person_status describes ``as_of``; the next
    build's marts are then built whole too (marts.person_sources is left as it was)."""
    from pipelines.status import delta

    _output_marts(conn, as_of, False)
    delta.remember(conn, "marts", None)


def build_portal_marts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The portal's aggregate tables (after the steward queue); returns their row counts."""
    for name, relative in PORTAL_MARTS.items():
        Store.run_sql(conn, relative)
    return {name: conn.execute(f"SELECT count(*) FROM marts.{name}").fetchall()[0][0] for name in PORTAL_MARTS}

