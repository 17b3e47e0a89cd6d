"""Freshness and completeness scorecard per source template and community (``quality.scorecard``).

Columns: template, community_code, community_name, as_of, newest_evidence, evidence_age_days,
records, share_valid_ids, addresses, share_addresses_matched, batches, files_rejected,
rows_loaded, rows_rejected. A NULL community means the rows say nothing about where they are.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.quality.queue import bind_inputs
from pipelines.quality.validate import ensure_schema
from pipelines.store import Store, dicts


def scorecard(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[dict]:
    ensure_schema(conn)
    bind_inputs(conn)
    Store.run_sql(conn, "quality/location.sql")
    Store.run_sql(conn, "quality/scorecard.sql", as_of=as_of)
    return dicts(conn.execute("SELECT * FROM quality.scorecard"))
