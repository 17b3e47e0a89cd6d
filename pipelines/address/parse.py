"""Reading free-text addresses the way a public-security 标准地址 is built (contract §3 ``address parse``).

省 市 区县 街道/镇 社区/村 (组) 街路巷 门牌号 (附号, 弄, 支弄) 小区/院落 (期, 区) 楼栋 单元 楼层 户室:
the administrative levels are stripped by the regex of ``sql/macros/address.sql`` and by the real names
of ``core.grids`` (with their short forms, ``address_gazetteer.sql``); what remains is read into road,
door number, compound, building, unit, floor and room. The same steps read houses' 标准地址 and
people's addresses (``address_matches.sql``), and ``onceonly address parse`` shows stewards the result.

The steps (``sql/core/address_parse*.sql``) work on TEMP tables of one connection:
``ap_in(tid BIGINT, raw VARCHAR)`` and ``addr_gaz`` in, ``ap_out`` out — one row per tid with
``problem`` (empty / too_long / no_text / not_address / too_short, else NULL), ``norm`` (the folded
text), the parts, ``carrier`` (the road or village group the door number hangs on), ``hits``
(``level:code`` of the grids' units the address names) and ``unknown_units`` (district or street words
no unit of ``core.grids`` bears).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import duckdb

from pipelines.store import Store, dicts, table_exists, use_macros

# Contract §3: the columns of `onceonly address parse`, and the ap_out column of each part.
PARSE_COLUMNS = ("地址", "道路", "门牌号", "小区", "楼栋", "单元", "楼层", "室")
PART_COLUMNS = ("road", "road_no", "compound", "building", "unit", "floor", "room")
MAX_ROUNDS = 4   # 区, 街道, 社区 and a short form of each: four rounds strip any order of them


def load_gazetteer(conn: duckdb.DuckDBPyConnection, use_grids: bool = True,
                   units: list[tuple[str, str, str]] | None = None) -> int:
    """(Re)create TEMP ``addr_gaz``: the districts, streets and communities of ``core.grids`` (none without
    it), or ``units`` — (level, code, name) with level district/street/community; returns its number of names."""
    conn.execute("CREATE OR REPLACE TEMP TABLE addr_units (level VARCHAR, code VARCHAR, name VARCHAR)")
    if units:
        conn.executemany("INSERT INTO addr_units VALUES (?, ?, ?)", [list(u) for u in units])
    elif use_grids and table_exists(conn, "core.grids"):
        conn.execute("""INSERT INTO addr_units
            SELECT 'district', district_code, district_name FROM core.grids
            UNION SELECT 'street', street_code, street_name FROM core.grids
            UNION SELECT 'community', community_code, community_name FROM core.grids""")
    Store.run_sql(conn, "core/address_gazetteer.sql")
    return conn.execute("SELECT count(*) FROM addr_gaz").fetchall()[0][0]


def parse_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Read TEMP ``ap_in`` into TEMP ``ap_out`` (``addr_gaz`` must exist: :func:`load_gazetteer`)."""
    Store.run_sql(conn, "core/address_parse.sql")
    for _ in range(MAX_ROUNDS):
        Store.run_sql(conn, "core/address_parse_round.sql")
        if not conn.execute("SELECT getvariable('ap_changed')").fetchall()[0][0]:
            break
    Store.run_sql(conn, "core/address_parse_place.sql")


def parse_lines(lines: Iterable[str], conn: duckdb.DuckDBPyConnection | None = None,
                units: list[tuple[str, str, str]] | None = None) -> list[dict]:
    """Parse addresses, one per item, in order; ``conn``: a store connection whose ``core.grids`` names
    the administrative units (None: an in-memory database, regex only, unless ``units`` names them as
    (level, code, name)). Returns dicts of ap_out."""
    own = conn is None
    if own:
        conn = duckdb.connect(":memory:")
        use_macros(conn)
    try:
        items = list(lines)
        load_gazetteer(conn, use_grids=not own, units=units)
        conn.execute("CREATE OR REPLACE TEMP TABLE ap_in (tid BIGINT, raw VARCHAR)")
        if items:
            conn.executemany("INSERT INTO ap_in VALUES (?, ?)", list(enumerate(items)))
        parse_inputs(conn)
        return dicts(conn.execute("SELECT * FROM ap_out ORDER BY tid"))
    finally:
        if own:
            conn.close()


def parse_csv(lines: Iterable[str], conn: duckdb.DuckDBPyConnection | None = None) -> str:
    """``onceonly address parse``: CSV with the contract's columns, one row per input line in input order."""
    items = [line.rstrip("\r\n") for line in lines]
    rows = parse_lines(items, conn)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PARSE_COLUMNS)
    for raw, row in zip(items, rows):
        writer.writerow([raw, *[row[c] or "" for c in PART_COLUMNS]])
    return out.getvalue()
