"""Free-text addresses to houses (contract §1; docs/architecture.md core step 3).

``floating.现居住地址`` (when the row names no known 房屋编码), ``assistance.居住地址`` and
``hukou.户籍地址`` are parsed by the macros of ``sql/macros/address.sql`` — the same ones that
parse every house's 标准地址 — and matched to ``core.houses``. One unique most-specific house
is a match; several are a ``multi_match`` with their codes; none is a ``no_match``. Nothing
is guessed: stewards get the rest.
"""
from __future__ import annotations

import duckdb

from pipelines.store import Store, table_exists

__all__ = ["match_addresses", "STATUSES"]

STATUSES = ("matched", "no_match", "multi_match")
INPUT_TEMPLATES = ("floating", "assistance", "hukou")


def match_addresses(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild ``core.address_matches``; return the number of source rows per match_status."""
    if not table_exists(conn, "core.houses"):
        raise RuntimeError("core.houses 尚未生成：请先导入实有房屋（housing）并生成房屋表，再匹配地址。")
    Store.run_sql(conn, "core/address_inputs.sql")
    for template in INPUT_TEMPLATES:
        # A template with no batch loaded yet has no staging table: nothing of it to match.
        if table_exists(conn, f"staging.{template}"):
            Store.run_sql(conn, f"core/address_input_{template}.sql")
    Store.run_sql(conn, "core/address_matches.sql")
    counts = dict(conn.execute(
        "SELECT match_status, count(*) FROM core.address_matches GROUP BY match_status"
    ).fetchall())
    return {status: int(counts.get(status, 0)) for status in STATUSES}
