"""期初: every person's status on the eve of a report period (人口变动月报, pipelines/reports/families.py
``population_changes``), kept in the store between builds.

Deciding every person's status again for the period's eve costs as much as the build's own status step. The eve of
the period a build reports (the 1st of the as-of month, minus one day) is the same for every build of the month, and
a person's status on it changes only when what the status rules read of them changes — exactly what an incremental
status step decides again for D (sql/core/person_status_delta.sql): their evidence (a link added or removed, a record
re-housed) or the micro-grid or grid of the house their presence is at. So the build's report step keeps
``marts.period_start_status`` (the rows the report reads: status, house, micro-grid, grid) for that eve and window,
and decides again only the persons whose status rows the status steps since replaced, handed on in
``scratch.report_person_delta`` (pipelines/status/delta.py ``hand_on_to_reports``), and those whose kept house now
lies in another micro-grid or grid. Whole instead when the eve, the window or the code changed
(``core.build_state`` step ``period_start_status``), when a status step since was a full one (it leaves no hand-on
table), or on a store without the table. Both ways give the same rows (tests/reports/test_period_start.py,
tests/status/test_incremental.py). Reports for another period, or on a read-only connection without a kept table
for the eve, decide it in a TEMP table as before (pipelines.status.status_at).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.status import delta, prepare_status, status_at
from pipelines.store import Store, table_exists

TABLE = "marts.period_start_status"
STEP = "period_start_status"
CHANGED = delta.REPORT_PERSON_DELTA
COLUMNS = "person_key, as_of, freshness_days, status, house_code, microgrid_code, grid_code"


def _window(conn: duckdb.DuckDBPyConnection) -> int | None:
    [(window,)] = conn.execute("SELECT max(freshness_days) FROM core.person_status").fetchall()
    return window


def fingerprint(opening: dt.date, window: int | None) -> str:
    return delta.status_fingerprint(opening, 365 if window is None else window)


def read_only(conn: duckdb.DuckDBPyConnection) -> bool:
    return bool(conn.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
                             ).fetchall()[0][0])


def keep(conn: duckdb.DuckDBPyConnection, opening: dt.date) -> str:
    """Bring ``marts.period_start_status`` to the statuses on ``opening`` (a build's report step, writable
    connection). Returns how: 'kept' (nothing changed), 'delta' or 'full'."""
    window = _window(conn)
    days = 365 if window is None else int(window)
    print_ = fingerprint(opening, window)
    incremental = delta.can_keep(conn, STEP, print_, TABLE, CHANGED)
    if incremental:
        conn.execute(f"""
            CREATE OR REPLACE TEMP TABLE _status_delta AS
            SELECT person_key FROM {CHANGED}
            UNION
            SELECT s.person_key
            FROM {TABLE} s
            LEFT JOIN core.houses h ON h.house_code = s.house_code
            LEFT JOIN core.grids g ON g.microgrid_code = h.microgrid_code
            WHERE s.microgrid_code IS DISTINCT FROM h.microgrid_code OR s.grid_code IS DISTINCT FROM g.grid_code""")
        n = conn.execute("SELECT count(*) FROM _status_delta").fetchall()[0][0]
        if n:
            prepare_status(conn, as_of=opening, freshness_days=days, only_delta=True)
            conn.execute(f"DELETE FROM {TABLE} WHERE person_key IN (SELECT person_key FROM _status_delta)")
            conn.execute(f"INSERT INTO {TABLE} SELECT {COLUMNS} FROM status_result")
            Store.run_sql(conn, "core/status_release.sql")
        conn.execute("DROP TABLE IF EXISTS _status_delta")
        how = "delta" if n else "kept"
    else:
        delta.remember(conn, STEP, None)     # half-made rows are never kept
        prepare_status(conn, as_of=opening, freshness_days=days)
        conn.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT {COLUMNS} FROM status_result ORDER BY person_key")
        Store.run_sql(conn, "core/status_release.sql")
        how = "full"
    # what later status steps replace is gathered from now on (an empty set: nothing since these rows)
    conn.execute(f"CREATE OR REPLACE TABLE {CHANGED} (person_key VARCHAR)")
    delta.remember(conn, STEP, print_)
    return how


def keep_for(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    """:func:`keep` for the eve of the period the build's 人口变动月报 reports (render_all on the build's writable
    connection; nothing on a read-only one or a store without statuses). Returns how, or None."""
    from pipelines.reports import FAMILIES

    if read_only(conn) or not table_exists(conn, "core.person_status"):
        return None
    hows = [keep(conn, f.period_start(as_of) - dt.timedelta(days=1))
            for f in FAMILIES.values() if f.builder == "population_changes"]
    return hows[0] if hows else None


def _drop(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop TEMP ``name``, table or view (DuckDB refuses to drop or replace one as the other)."""
    kinds = conn.execute("SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
                         "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?", [name, name]).fetchall()
    for (kind,) in kinds:
        conn.execute(f"DROP {kind} {name}")


def opening_status(conn: duckdb.DuckDBPyConnection, table: str, opening: dt.date) -> None:
    """TEMP view ``table``: every person's status on ``opening`` — the kept rows when they are for that eve, window
    and code and no status step replaced rows since (the build's report step keeps them fresh: :func:`keep_for`; a
    writable connection brings them up to date here), else decided in a TEMP table by pipelines.status.status_at
    (another period; a read-only store whose rows are not current)."""
    window = _window(conn)
    current = delta.can_keep(conn, STEP, fingerprint(opening, window), TABLE)
    if current and (not table_exists(conn, CHANGED) or conn.execute(f"SELECT count(*) FROM {CHANGED}").fetchall()[0][0]):
        # a status step replaced rows since the report step made these (the build's keeps them fresh)
        if read_only(conn):
            current = False
        else:
            keep(conn, opening)
    if current:
        _drop(conn, table)
        conn.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM {TABLE}")
        return
    if conn.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [table]).fetchall()[0][0]:
        _drop(conn, table)
    status_at(conn, table, as_of=opening, freshness_days=window)
