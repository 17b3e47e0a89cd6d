"""core: evidence per person, and status as of the run's date (contract §2)."""

import dagster as dg

from pipelines.assets.identity import persons
from pipelines.resources import RunSettings, StoreResource
from pipelines.status import build_evidence, build_status


@dg.asset(key_prefix="core", group_name="status", deps=[persons], kinds={"duckdb"},
          description="core.evidence: presence, departure and death evidence, each with date, house and source row.")
def evidence(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        how = build_evidence(conn, incremental=True)
        rows = conn.execute("SELECT count(*) FROM core.evidence").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"rows": rows, "built": how})


@dg.asset(key_prefix="core", group_name="status", deps=[evidence], kinds={"duckdb"},
          description="core.person_status: 在住 / 已离开 / 死亡 / 待核实 as of the run's date.")
def person_status(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        how = build_status(conn, as_of=settings.as_of_date, freshness_days=settings.freshness_days, incremental=True)
        counts = dict(conn.execute(
            "SELECT status, count(*) FROM core.person_status GROUP BY status ORDER BY status").fetchall())
    return dg.MaterializeResult(metadata={"as_of": settings.as_of_date.isoformat(), "built": how, **counts})
