"""``core.person_records``: every person-bearing source row in one schema (``sql/core/person_records.sql``).

An incremental build keeps the rows of earlier batches and builds the rows of new batches and of the records whose
house changed (``sql/core/person_records_delta.sql``) when the last build's rows were made from the same code and
steward fixes (pipelines/status/delta.py); either way the records it built or removed are handed on in
``scratch.record_delta`` (docs/architecture.md, "Incremental builds").
"""
from __future__ import annotations

import duckdb

from pipelines.status import delta


def build_person_records(conn: duckdb.DuckDBPyConnection, *, incremental: bool = False) -> str:
    """Write ``core.person_records`` (after ``core.address_matches``); returns 'full' or 'delta'."""
    how = delta.build_step(conn, "person_records", delta.records_fingerprint(conn), incremental=incremental,
                           rows_sql="core/person_records.sql", delta_sql="core/person_records_delta.sql",
                           full_sql="core/person_records_build.sql",
                           needs=("core.person_records", "scratch.address_delta"), variable="records_delta")
    # numbered: scratch.record_delta says what changed since this step's previous build, which a reader
    # (identity's seeds) may not have read (pipelines/identity/link.py)
    delta.hand_on(conn, "person_records")
    return how
