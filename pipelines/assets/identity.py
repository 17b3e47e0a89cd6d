"""core: one person per human: deterministic by valid ID, then a Fellegi–Sunter score (the Splink
model of pipelines/identity/identity.yaml, evaluated in SQL) for the records without one."""

import datetime as dt

import dagster as dg

from pipelines.assets.core import person_records
from pipelines.identity import link_persons
from pipelines.resources import StoreResource


@dg.asset(key_prefix="core", group_name="identity", deps=[person_records], kinds={"duckdb"},
          description="core.persons, core.person_links, core.person_key_registry, core.merge_log, core.link_candidates.")
def persons(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        # a build: only the dirty closure when the last run's tables allow (metadata `built`: delta or full)
        summary = link_persons(conn, run_date=dt.date.today(), incremental=True)
    return dg.MaterializeResult(metadata={str(k): v for k, v in (summary or {}).items()
                                          if isinstance(v, (int, float, str))})
