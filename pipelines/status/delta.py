"""What an incremental build of evidence, status and the marts may keep (docs/architecture.md, "Incremental builds").

A build rebuilds ``core.evidence`` and ``core.person_status`` only for the persons a new batch can change
(``sql/core/evidence_delta.sql``, ``sql/core/person_status_delta.sql``) when everything else they are made of is
what the last build used: the same code and package versions (pipelines/code_signature.py, as district runs
check theirs), the same steward fixes in force (they retype rows of earlier batches), and for the status the same
as-of date and window. ``core.build_state`` keeps, per step, a fingerprint of those;
a step whose fingerprint differs, or a store without one, is built whole — and writes the new fingerprint.
Both ways give the same rows (tests/status/test_incremental.py compares every table and file).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.code_signature import code_signature
from pipelines.store import table_exists


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


def status_fingerprint(as_of: dt.date, freshness_days: int) -> str:
    return f"code {code_signature()} as_of {as_of.isoformat()} window {int(freshness_days)}"


def marts_fingerprint(as_of: dt.date) -> str:
    """The marts keep rows only when status handed on the persons it replaced (scratch.person_delta: evidence and
    status were incremental, so the fixes and window are the last build's) and were made for the same date."""
    return f"code {code_signature()} as_of {as_of.isoformat()}"


def stored(conn: duckdb.DuckDBPyConnection, step: str) -> str | None:
    if not table_exists(conn, "core.build_state"):
        return None
    rows = conn.execute("SELECT fingerprint FROM core.build_state WHERE step = ?", [step]).fetchall()
    return rows[0][0] if rows else None


def remember(conn: duckdb.DuckDBPyConnection, step: str, fingerprint: str | None) -> None:
    """Record what ``step`` was built from (None: forget it, so the next build of the step is a full one)."""
    conn.execute("CREATE TABLE IF NOT EXISTS core.build_state (step VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
    conn.execute("DELETE FROM core.build_state WHERE step = ?", [step])
    if fingerprint is not None:
        conn.execute("INSERT INTO core.build_state VALUES (?, ?)", [step, fingerprint])
