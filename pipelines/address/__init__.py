"""Free-text addresses to houses (contract §1 and §3; docs/architecture.md core step 3).

``floating.现居住地址`` (read when the row names no known 房屋编码; a row that does is 已匹配 to it),
``assistance.居住地址`` and ``hukou.户籍地址`` are read by :mod:`pipelines.address.parse` — the same steps
that read every house's 标准地址 — and matched to ``core.houses``: by compound, by road and door number,
by building, unit, floor and room, then by a community or street the address names, the row's own
社区名称 (assistance) and its 派出所's jurisdiction (floating, hukou). One unique most-specific house is a
match; several are a ``multi_match`` with their codes; none is a ``no_match``. Nothing is guessed:
stewards get the rest, grouped by what is unknown, and their decisions (:mod:`pipelines.address.aliases`)
are applied on every rebuild.
"""
from __future__ import annotations

import logging

import duckdb

from pipelines.address.parse import load_gazetteer, parse_inputs
from pipelines.store import Store, table_exists

__all__ = ["build_address_matches", "match_addresses", "STATUSES"]

STATUSES = ("matched", "no_match", "multi_match")
INPUT_TEMPLATES = ("floating", "assistance", "hukou")
# More needles than this (address_reach.sql: a whole housing register reloaded, a district renamed) reach most
# texts anyway; matching every text is then as fast and simpler.
MAX_NEEDLES = 2000
log = logging.getLogger(__name__)


def prepare_places(conn: duckdb.DuckDBPyConnection) -> None:
    """TEMP ``addr_gaz`` (the grids' names) and ``addr_grids`` (each micro-grid's units), and the stewards'
    decisions table: what reading and matching an address needs besides the houses."""
    load_gazetteer(conn)
    if table_exists(conn, "core.grids"):
        conn.execute("CREATE OR REPLACE TEMP VIEW addr_grids AS SELECT microgrid_code, community_code, "
                     "street_code, district_code FROM core.grids")
    else:
        conn.execute("CREATE OR REPLACE TEMP VIEW addr_grids AS SELECT NULL::VARCHAR AS microgrid_code, "
                     "NULL::VARCHAR AS community_code, NULL::VARCHAR AS street_code, NULL::VARCHAR AS district_code "
                     "WHERE false")
    Store.run_sql(conn, "quality/address_aliases.sql")


def match_addresses(conn: duckdb.DuckDBPyConnection, *, incremental: bool = False) -> dict[str, int]:
    """Rebuild ``core.address_matches``; return the number of source rows per match_status. ``incremental``
    (a build): see :func:`build_address_matches`."""
    return build_address_matches(conn, incremental=incremental)[1]


def build_address_matches(conn: duckdb.DuckDBPyConnection, *,
                          incremental: bool = False) -> tuple[str, dict[str, int]]:
    """``core.address_matches``. ``incremental``: decide only the rows of new batches, those a police station's
    jurisdiction or a row's 社区名称 may settle, and those whose text a change of the houses or the grids' names can
    reach (``sql/core/address_reach.sql``, ``sql/core/address_delta.sql``) when the last build's rows were decided
    with the same code, steward fixes and address decisions (pipelines/status/delta.py); otherwise every row. The
    records whose house by address changed are handed to ``core.person_records`` in scratch.address_delta. Returns
    how it was built ('full' or 'delta') and the rows per match_status."""
    from pipelines.status import delta

    if not table_exists(conn, "core.houses"):
        raise RuntimeError("core.houses 尚未生成：请先导入实有房屋（housing）并生成房屋表，再匹配地址。")
    Store.run_sql(conn, "core/address_inputs.sql")
    for template in INPUT_TEMPLATES:
        # A template with no batch loaded yet has no staging table: nothing of it to match.
        if table_exists(conn, f"staging.{template}"):
            Store.run_sql(conn, f"core/address_input_{template}.sql")
    prepare_places(conn)
    fingerprint = delta.address_fingerprint(conn)
    keep = incremental and delta.can_keep(conn, "address_matches", fingerprint, "core.address_matches",
                                          "core.address_house_reads", "core.address_gaz", "core.address_text_norms")
    if keep:
        # only the houses whose housing row, micro-grid units or grids' names read changed are read again
        Store.run_sql(conn, "core/address_house_keep.sql")
    else:
        conn.execute("CREATE OR REPLACE TEMP TABLE addr_house_redo AS SELECT house_code FROM core.houses")
    # The houses are read first: an incremental build compares their reading with the last build's.
    Store.run_sql(conn, "core/address_house_texts.sql", houses_delta=keep)
    parse_inputs(conn)
    Store.run_sql(conn, "core/address_houses.sql")
    if keep:
        Store.run_sql(conn, "core/address_houses_kept.sql")
    houses_read = conn.execute("SELECT count(*) FROM addr_htexts").fetchall()[0][0]
    log.info("core.address_matches: %d houses read", houses_read)
    conn.execute(f"SET VARIABLE address_houses_read = {int(houses_read)}")   # for the bench's stage line
    how = "full"
    if keep:
        Store.run_sql(conn, "core/address_reach.sql")
        needles = conn.execute("SELECT count(*) FROM addr_needles").fetchall()[0][0]
        flipped = conn.execute("SELECT getvariable('addr_gaz_flipped')").fetchall()[0][0]
        how = "full" if flipped or needles > MAX_NEEDLES else "delta"
    if how == "full":
        # every house is (re)written to core.address_house_reads (address_matches_done.sql)
        conn.execute("DROP TABLE IF EXISTS core.address_house_reads")
        conn.execute("DROP TABLE IF EXISTS core.address_text_norms")
        conn.execute("CREATE OR REPLACE TEMP TABLE addr_house_change AS SELECT DISTINCT house_code FROM addr_houses")
    if table_exists(conn, "core.address_matches"):
        Store.run_sql(conn, "core/address_delta.sql" if how == "delta" else "core/address_was.sql")
    Store.run_sql(conn, "core/address_match_texts.sql")
    texts = conn.execute("SELECT count(*) FROM addr_texts").fetchall()[0][0]
    log.info("core.address_matches (%s): %d distinct address texts read", how, texts)
    conn.execute(f"SET VARIABLE address_texts_read = {int(texts)}")   # for the bench's stage line
    parse_inputs(conn)
    Store.run_sql(conn, "core/address_matches.sql")
    Store.run_sql(conn, "core/address_matches_insert.sql" if how == "delta" else "core/address_matches_build.sql")
    Store.run_sql(conn, "core/address_matches_done.sql")
    delta.remember(conn, "address_matches", fingerprint)
    counts = dict(conn.execute(
        "SELECT match_status, count(*) FROM core.address_matches GROUP BY match_status"
    ).fetchall())
    return how, {status: int(counts.get(status, 0)) for status in STATUSES}
