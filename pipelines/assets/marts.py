"""marts: the contract extracts' tables for the run's date."""

import dagster as dg

from pipelines.assets.status import person_status
from pipelines.marts import build_marts
from pipelines.resources import RunSettings, StoreResource


@dg.asset(key_prefix="marts", group_name="marts", deps=[person_status], kinds={"duckdb"},
          description="marts.grid_population, marts.person_sources, marts.assistance_check (contract §3).")
def contract_extracts(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        build_marts(conn, as_of=settings.as_of_date)
        meta = {t: conn.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0]
                for t in ("grid_population", "person_sources", "assistance_check")}
    return dg.MaterializeResult(metadata=meta)

