"""staging: loaded rows typed and normalised (IDs, names, phones, dates, code lists) in SQL."""

import dagster as dg

from pipelines.resources import StoreResource
from pipelines.staging import build_staging


@dg.asset(key_prefix="staging", group_name="staging", deps=[dg.AssetKey(["raw", "batches"])], kinds={"duckdb"},
          description="staging.<template> for the nine templates (sql/staging/_template.sql, per template).")
def tables(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        counts = build_staging(conn)
    return dg.MaterializeResult(metadata={f"rows_{k}": v for k, v in (counts or {}).items()})
