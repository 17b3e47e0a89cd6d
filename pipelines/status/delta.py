"""What an incremental build may keep of the rows the last build wrote (docs/architecture.md, "Incremental builds").

A build rebuilds ``core.evidence`` and ``core.person_status`` only for the persons a new batch can change
(``sql/core/evidence_delta.sql``, ``sql/core/person_status_delta.sql``) when everything else they are made of is
what the last build used: the same code and package versions (pipelines/code_signature.py, as district runs
check theirs), the same steward fixes in force (they retype rows of earlier batches), and for the status the same
as-of date and window. ``core.build_state`` keeps, per step, a fingerprint of those;
a step whose fingerprint differs, or a store without one, is built whole — and writes the new fingerprint.
Both ways give the same rows (tests/status/test_incremental.py compares every table and file). The core steps
(``core.address_matches``, ``core.person_records``: pipelines/address/__init__.py, pipelines/records.py) are kept
the same way.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.code_signature import code_signature
from pipelines.store import Store, table_exists


def _corrections(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The steward fixes in force (they change staging rows of earlier batches), as one digest; None when the
    store has no readable corrections (a store that is no build's, e.g. the city pass's): never incremental."""
    try:
        return conn.execute("SELECT coalesce(md5(string_agg(c::VARCHAR, '|' ORDER BY c::VARCHAR)), '-') "
                            "FROM quality.active_corrections c WHERE action = 'fix'").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def evidence_fingerprint(conn: duckdb.DuckDBPyConnection) -> str | None:
    fixes = _corrections(conn)
    return None if fixes is None else f"code {code_signature()} fixes {fixes}"


def records_fingerprint(conn: duckdb.DuckDBPyConnection) -> str | None:
    """``core.person_records``: its rows of earlier batches are staging's rows (code and steward fixes) with the
    house they name (a known stated house, or the address's: handed on per record, not fingerprinted)."""
    return evidence_fingerprint(conn)


def address_fingerprint(conn: duckdb.DuckDBPyConnection) -> str | None:
    """``core.address_matches``: a row's decision is made against every house, the grids' names (which strip an
    address's administrative levels and place houses in communities) and the stewards' address decisions. A change
    of the decisions, code or steward fixes rebuilds it whole; a change of the houses or the grids' names is found
    by comparing their reading with the last build's (core.address_house_reads, core.address_gaz:
    sql/core/address_reach.sql), and only the texts it can reach are decided again."""
    base = evidence_fingerprint(conn)
    if base is None:
        return None
    aliases = conn.execute(
        "SELECT coalesce(sum(hash(a)::HUGEINT), 0) FROM quality.address_aliases a").fetchall()[0][0]
    return f"{base} aliases {aliases}"


def validation_fingerprint(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    """The validation's kept counts and failing rows (``quality.validation_batches``, pipelines/quality/batches.py):
    a staging row's count is made from its typed row (code, and the steward fixes that retype rows of earlier
    batches) and the rules the code renders from ``sources/*.yaml`` and ``expectations/`` (code signature); rules
    read the as-of date (``getvariable('as_of')``)."""
    base = evidence_fingerprint(conn)
    return None if base is None else f"{base} as_of {as_of.isoformat()}"


def status_fingerprint(as_of: dt.date, freshness_days: int) -> str:
    return f"code {code_signature()} as_of {as_of.isoformat()} window {int(freshness_days)}"


def marts_fingerprint(as_of: dt.date) -> str:
    """The marts keep rows only when status handed on the persons it replaced (scratch.person_delta: evidence and
    status were incremental, so the fixes and window are the last build's) and were made for the same date."""
    return f"code {code_signature()} as_of {as_of.isoformat()}"


# The persons whose core.person_status rows the status steps replaced since the build's report step last read it
# (pipelines/marts/period_start.py keeps 期初 statuses for them); absent when a status step since was a full one.
REPORT_PERSON_DELTA = "scratch.report_person_delta"


def hand_on_to_reports(conn: duckdb.DuckDBPyConnection, how: str) -> None:
    """After the evidence or status step built ``how`` ('delta' or 'full'): add the persons an incremental step
    rebuilt (scratch.person_delta) to those the report step has yet to see; after a full step, forget them
    all (the report step then decides its 期初 statuses whole). Builds without a report step in between add up."""
    if how != "delta":
        conn.execute(f"DROP TABLE IF EXISTS {REPORT_PERSON_DELTA}")
    elif table_exists(conn, REPORT_PERSON_DELTA) and table_exists(conn, "scratch.person_delta"):
        conn.execute(f"INSERT INTO {REPORT_PERSON_DELTA} SELECT person_key FROM scratch.person_delta")


def stored(conn: duckdb.DuckDBPyConnection, step: str) -> str | None:
    if not table_exists(conn, "core.build_state"):
        return None
    rows = conn.execute("SELECT fingerprint FROM core.build_state WHERE step = ?", [step]).fetchall()
    return rows[0][0] if rows else None


def can_keep(conn: duckdb.DuckDBPyConnection, step: str, fingerprint: str | None, *tables: str) -> bool:
    """Whether an incremental build of ``step`` may keep the last build's rows: its ``tables`` exist and were made
    from what ``fingerprint`` says (None: a store that is never incremental)."""
    return (fingerprint is not None and all(table_exists(conn, t) for t in tables)
            and stored(conn, step) == fingerprint)


def build_step(conn: duckdb.DuckDBPyConnection, step: str, fingerprint: str | None, *, incremental: bool,
               rows_sql: str, delta_sql: str, full_sql: str, needs: tuple[str, ...], variable: str) -> str:
    """Build a step whose rows are a view (``rows_sql``, restricted by the SQL variable ``variable`` to what the
    delta file chose): only what a new batch changes (``delta_sql``) when :func:`can_keep`, else whole
    (``full_sql``); record the fingerprint. Returns 'delta' or 'full'."""
    Store.run_sql(conn, rows_sql, **{variable: False})
    if incremental and can_keep(conn, step, fingerprint, *needs):
        Store.run_sql(conn, delta_sql, **{variable: True})
        how = "delta"
    else:
        Store.run_sql(conn, full_sql, **{variable: False})
        how = "full"
    remember(conn, step, fingerprint)
    return how


# Change sets are counted in scratch, not in core.build_state: the count is bookkeeping of this store's history, not
# what a build made (a store rebuilt whole after its fingerprints were dropped has the same tables, another count);
# a store without it (scratch emptied) only makes the readers compare instead of reading the set.
_HANDED = "scratch.handed_sets"


def _handed(conn: duckdb.DuckDBPyConnection, name: str) -> int | None:
    if not table_exists(conn, _HANDED):
        return None
    rows = conn.execute(f"SELECT number FROM {_HANDED} WHERE name = ?", [name]).fetchall()
    return rows[0][0] if rows else None


def _count(conn: duckdb.DuckDBPyConnection, name: str, number: int | None) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {_HANDED} (name VARCHAR PRIMARY KEY, number INTEGER)")
    conn.execute(f"DELETE FROM {_HANDED} WHERE name = ?", [name])
    if number is not None:
        conn.execute(f"INSERT INTO {_HANDED} VALUES (?, ?)", [name, number])


def hand_on(conn: duckdb.DuckDBPyConnection, step: str) -> int:
    """Count one more change set handed on by ``step`` (e.g. person_records' scratch.record_delta, which says what
    changed since the step's previous build only); returns its number. A reader that remembers the number it read
    last (:func:`read_handed`) knows whether the set it finds follows on from it or an unread one was overwritten
    (the step built twice without it, e.g. a run stopped after the step)."""
    number = (_handed(conn, step) or 0) + 1
    _count(conn, step, number)
    return number


def handed_since(conn: duckdb.DuckDBPyConnection, step: str, reader: str) -> bool:
    """Whether the change set ``step`` handed on last is the one right after the one ``reader`` read last
    (:func:`read_handed` records that): only then does it hold every change since the reader's last build."""
    last, read = _handed(conn, step), _handed(conn, f"{reader} read {step}")
    return last is not None and read is not None and last == read + 1


def records_handed(conn: duckdb.DuckDBPyConnection, reader: str) -> bool:
    """Whether scratch.record_delta holds every record core.person_records built or removed since ``reader`` last
    read it: the set right after that one (:func:`handed_since`), and not a whole rebuild's ('rebuilt')."""
    return (table_exists(conn, "scratch.record_delta") and handed_since(conn, "person_records", reader)
            and not conn.execute("SELECT count(*) FROM (SELECT 1 FROM scratch.record_delta WHERE change = 'rebuilt' "
                                 "LIMIT 1)").fetchall()[0][0])


def read_handed(conn: duckdb.DuckDBPyConnection, step: str, reader: str) -> None:
    """Record that ``reader`` is now up to date with ``step``'s rows (whichever way it was built)."""
    _count(conn, f"{reader} read {step}", _handed(conn, step))


def remember(conn: duckdb.DuckDBPyConnection, step: str, fingerprint: str | None) -> None:
    """Record what ``step`` was built from (None: forget it, so the next build of the step is a full one)."""
    conn.execute("CREATE TABLE IF NOT EXISTS core.build_state (step VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
    conn.execute("DELETE FROM core.build_state WHERE step = ?", [step])
    if fingerprint is not None:
        conn.execute("INSERT INTO core.build_state VALUES (?, ?)", [step, fingerprint])
