"""core: places (grids, houses), address matches and the one-schema person records."""

import dagster as dg

from pipelines.address import build_address_matches
from pipelines.records import build_person_records
from pipelines.resources import StoreResource
from pipelines.store import Store

STAGING = dg.AssetKey(["staging", "tables"])


def _run(store: StoreResource, sql_file: str, table: str) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        Store.run_sql(conn, sql_file)
        rows = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"rows": rows})


@dg.asset(key_prefix="core", group_name="core", deps=[STAGING], kinds={"duckdb"},
          description="core.grids: one row per micro-grid with its grid, community, street, district.")
def grids(store: StoreResource) -> dg.MaterializeResult:
    return _run(store, "core/grids.sql", "core.grids")


@dg.asset(key_prefix="core", group_name="core", deps=[STAGING, grids], kinds={"duckdb"},
          description="core.houses: one row per 房屋编码, newest 采集日期.")
def houses(store: StoreResource) -> dg.MaterializeResult:
    return _run(store, "core/houses.sql", "core.houses")


@dg.asset(key_prefix="core", group_name="core", deps=[STAGING, grids, houses], kinds={"duckdb"},
          description="core.address_matches: free-text addresses matched to houses (the grids' names strip an "
                      "address's administrative levels), or left for stewards.")
def address_matches(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        how, counts = build_address_matches(conn, incremental=True)
    return dg.MaterializeResult(metadata={**{str(k): v for k, v in counts.items()}, "built": how})


@dg.asset(key_prefix="core", group_name="core", deps=[STAGING, houses, address_matches], kinds={"duckdb"},
          description="core.person_records: every person-bearing source row in one schema.")
def person_records(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        how = build_person_records(conn, incremental=True)
        rows = conn.execute("SELECT count(*) FROM core.person_records").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"rows": rows, "built": how})
