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

The report's transitions — the persons whose status or grid on D differs from the eve's, with what it prints of
them (sql/reports/population_changes_transitions.sql) — are kept the same way in ``marts.period_changes`` for the
eve and D of the build (step ``period_changes``): a person's row reads only their row of the eve's statuses and of
marts.persons, and both are replaced only for the persons the status steps replaced (whom :func:`keep` gathers in
``scratch.period_changes_delta`` each time it brings the eve's rows up to date). The build's report step, after the
marts step, decides those persons again (:func:`keep_for`); the report reads the kept rows only when nothing is
pending (:func:`transitions`), else decides them whole as before. Whole when the eve's rows were decided whole,
another D, or the marts were not built for D since the status step (tests/reports/test_period_changes.py).
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
CHANGES = "marts.period_changes"
CHANGES_STEP = "period_changes"
CHANGES_PENDING = "scratch.period_changes_delta"
TRANSITIONS_SQL = "reports/population_changes_transitions.sql"


def _window(conn: duckdb.DuckDBPyConnection) -> int | None:
    [(window,)] = conn.execute("SELECT max(freshness_days) FROM core.person_status").fetchall()
    return window


def fingerprint(opening: dt.date, window: int | None) -> str:
    return delta.status_fingerprint(opening, 365 if window is None else window)


def read_only(conn: duckdb.DuckDBPyConnection) -> bool:
    return bool(conn.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"
                             ).fetchall()[0][0])


def keep(conn: duckdb.DuckDBPyConnection, opening: dt.date, as_of: dt.date | None = None) -> str:
    """Bring ``marts.period_start_status`` to the statuses on ``opening`` (a build's report step, writable
    connection). Returns how: 'kept' (nothing changed), 'delta' or 'full'. ``as_of``: also the transitions to D
    (:func:`keep_transitions`; only after the marts step, whose marts.persons they read)."""
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
        if n and table_exists(conn, CHANGES_PENDING):
            # their transitions too: their row of the eve changes now, their row of marts.persons did
            conn.execute(f"INSERT INTO {CHANGES_PENDING} SELECT person_key FROM _status_delta")
        if n:
            prepare_status(conn, as_of=opening, freshness_days=days, only_delta=True)
            conn.execute(f"DELETE FROM {TABLE} WHERE person_key IN (SELECT person_key FROM _status_delta)")
            conn.execute(f"INSERT INTO {TABLE} SELECT {COLUMNS} FROM status_result")
            Store.run_sql(conn, "core/status_release.sql")
        conn.execute("DROP TABLE IF EXISTS _status_delta")
        how = "delta" if n else "kept"
    else:
        delta.remember(conn, STEP, None)     # half-made rows are never kept
        _forget_transitions(conn)
        prepare_status(conn, as_of=opening, freshness_days=days)
        conn.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT {COLUMNS} FROM status_result ORDER BY person_key")
        Store.run_sql(conn, "core/status_release.sql")
        how = "full"
    # what later status steps replace is gathered from now on (an empty set: nothing since these rows)
    conn.execute(f"CREATE OR REPLACE TABLE {CHANGED} (person_key VARCHAR)")
    delta.remember(conn, STEP, print_)
    if as_of is not None:
        keep_transitions(conn, opening, as_of, print_)
    return how


def _transitions_fingerprint(start_print: str, as_of: dt.date) -> str:
    return f"{start_print} to {as_of.isoformat()}"


def _forget_transitions(conn: duckdb.DuckDBPyConnection) -> None:
    """Nothing kept: a store holds the transitions only while they are kept up to date (the same tables as a whole
    build's, whichever way it was built)."""
    delta.remember(conn, CHANGES_STEP, None)
    conn.execute(f"DROP TABLE IF EXISTS {CHANGES_PENDING}")
    conn.execute(f"DROP TABLE IF EXISTS {CHANGES}")


def _marts_current(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> bool:
    """marts.persons are for D and hold every status step's rows (scratch.person_delta is there only between an
    incremental status step and the marts step that reads it)."""
    return (delta.stored(conn, "marts") == delta.marts_fingerprint(as_of)
            and not table_exists(conn, "scratch.person_delta"))


def keep_transitions(conn: duckdb.DuckDBPyConnection, opening: dt.date, as_of: dt.date, start_print: str) -> str:
    """Bring ``marts.period_changes`` to the transitions from the kept statuses on ``opening`` (just brought up to
    date, fingerprint ``start_print``) to marts.persons for ``as_of``: again for the persons pending, or whole.
    Returns 'kept', 'delta', 'full', or 'none' when the marts are not current (then nothing is kept)."""
    if not _marts_current(conn, as_of):
        _forget_transitions(conn)
        return "none"
    print_ = _transitions_fingerprint(start_print, as_of)
    _drop(conn, "rc_start")
    conn.execute(f"CREATE TEMP VIEW rc_start AS SELECT * FROM {TABLE}")
    if delta.can_keep(conn, CHANGES_STEP, print_, CHANGES, CHANGES_PENDING):
        conn.execute(f"CREATE OR REPLACE TEMP TABLE _chg_delta AS SELECT DISTINCT person_key FROM {CHANGES_PENDING}")
        n = conn.execute("SELECT count(*) FROM _chg_delta").fetchall()[0][0]
        if n:
            Store.run_sql(conn, TRANSITIONS_SQL, as_of=as_of, transitions_delta=True)
            conn.execute(f"DELETE FROM {CHANGES} WHERE person_key IN (SELECT person_key FROM _chg_delta)")
            conn.execute(f"INSERT INTO {CHANGES} SELECT * FROM rc_transition_rows")
        how = "delta" if n else "kept"
    else:
        delta.remember(conn, CHANGES_STEP, None)
        Store.run_sql(conn, TRANSITIONS_SQL, as_of=as_of, transitions_delta=False)
        conn.execute(f"CREATE OR REPLACE TABLE {CHANGES} AS SELECT * FROM rc_transition_rows ORDER BY person_key")
        how = "full"
    conn.execute("DROP VIEW IF EXISTS rc_transition_rows")
    conn.execute("DROP TABLE _chg_delta")
    _drop(conn, "rc_start")
    conn.execute(f"CREATE OR REPLACE TABLE {CHANGES_PENDING} (person_key VARCHAR)")
    delta.remember(conn, CHANGES_STEP, print_)
    return how


def transitions(conn: duckdb.DuckDBPyConnection, view: str, opening: dt.date, as_of: dt.date, kept_start: bool) -> None:
    """TEMP view ``view``: the transitions from the statuses in TEMP rc_start (on ``opening``; ``kept_start``: the
    kept rows, :func:`opening_status`) to marts.persons for ``as_of`` — the kept rows when they are for that eve,
    window, code and D and nothing is pending, else decided here (sql/reports/population_changes_transitions.sql)."""
    current = (kept_start and delta.can_keep(conn, CHANGES_STEP,
                                             _transitions_fingerprint(fingerprint(opening, _window(conn)), as_of),
                                             CHANGES, CHANGES_PENDING)
               and _marts_current(conn, as_of)
               and not conn.execute(f"SELECT count(*) FROM {CHANGES_PENDING}").fetchall()[0][0])
    if current:
        source = CHANGES
    else:
        Store.run_sql(conn, TRANSITIONS_SQL, as_of=as_of, transitions_delta=False)
        source = "rc_transition_rows"
    _drop(conn, view)
    conn.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {source}")


def keep_for(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    """:func:`keep` for the eve of the period the build's 人口变动月报 reports (render_all on the build's writable
    connection; nothing on a read-only one or a store without statuses). Returns how, or None."""
    from pipelines.reports import FAMILIES

    if read_only(conn) or not table_exists(conn, "core.person_status"):
        return None
    hows = [keep(conn, f.period_start(as_of) - dt.timedelta(days=1), as_of)
            for f in FAMILIES.values() if f.builder == "population_changes"]
    return hows[0] if hows else None


def _drop(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop TEMP ``name``, table or view (DuckDB refuses to drop or replace one as the other)."""
    kinds = conn.execute("SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
                         "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?", [name, name]).fetchall()
    for (kind,) in kinds:
        conn.execute(f"DROP {kind} {name}")


def opening_status(conn: duckdb.DuckDBPyConnection, table: str, opening: dt.date) -> bool:
    """TEMP view ``table``: every person's status on ``opening`` — the kept rows when they are for that eve, window
    and code and no status step replaced rows since (the build's report step keeps them fresh: :func:`keep_for`; a
    writable connection brings them up to date here), else decided in a TEMP table by pipelines.status.status_at
    (another period; a read-only store whose rows are not current). Returns whether the kept rows are used."""
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
        return True
    if conn.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [table]).fetchall()[0][0]:
        _drop(conn, table)
    status_at(conn, table, as_of=opening, freshness_days=window)
    return False
