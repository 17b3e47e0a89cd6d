"""``core.person_records``: every person-bearing source row in one schema (``sql/core/person_records.sql``).

An incremental build keeps the rows of earlier batches and builds the rows of new batches and of the records whose
house changed (``sql/core/person_records_delta.sql``) when the last build's rows were made from the same code and
steward fixes (pipelines/status/delta.py); either way the records it built or removed are handed on in
``scratch.record_delta`` (docs/architecture.md, "Incremental builds").
"""
from __future__ import annotations

import duckdb

from pipelines.status import delta
from pipelines.store import Store


def build_person_records(conn: duckdb.DuckDBPyConnection, *, incremental: bool = False) -> str:
    """Write ``core.person_records`` (after ``core.address_matches``); returns 'full' or 'delta'."""
    fingerprint = delta.records_fingerprint(conn)
    Store.run_sql(conn, "core/person_records.sql", records_delta=False)
    if incremental and delta.can_keep(conn, "person_records", fingerprint, "core.person_records", "scratch.address_delta"):
        Store.run_sql(conn, "core/person_records_delta.sql", records_delta=True)
        how = "delta"
    else:
        Store.run_sql(conn, "core/person_records_build.sql", records_delta=False)
        how = "full"
    delta.remember(conn, "person_records", fingerprint)
    return how
