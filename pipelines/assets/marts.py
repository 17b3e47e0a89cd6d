"""marts: what every output reads, and the contract extracts' tables, for the run's date."""

import dagster as dg

from pipelines.assets.status import person_status
from pipelines.marts import build_marts
from pipelines.resources import RunSettings, StoreResource


@dg.asset(key_prefix="marts", group_name="marts", deps=[person_status], kinds={"duckdb"},
          description="marts.persons, marts.houses, marts.grids (what every report, list, extract and portal page reads), "
                      "marts.population_by_grid (实有人口 by grid, counted once); marts.grid_population, "
                      "marts.person_sources, marts.assistance_check, marts.verification_tasks, "
                      "marts.deregistration_feedback (contract §3); the follow-up tasks (marts.tasks), whose "
                      "events and per-grid snapshot this build appends to core.task_log and core.grid_history.")
def contract_extracts(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        how = build_marts(conn, as_of=settings.as_of_date, record_tasks=True, incremental=True)
        meta = {"built": how} | {t: conn.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0]
                for t in ("grid_population", "person_sources", "assistance_check", "verification_tasks",
                          "deregistration_feedback")}
        meta.update({f"tasks_{kind}_{state}": n for kind, state, n in conn.execute(
            "SELECT kind, state, count(*) FROM marts.tasks GROUP BY ALL ORDER BY ALL").fetchall()})
    return dg.MaterializeResult(metadata=meta)

