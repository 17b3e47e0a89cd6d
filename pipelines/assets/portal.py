"""portal: what the portal reads, prepared with each store version — small aggregates instead of scans of the person
and issue tables."""
import dagster as dg

from pipelines.assets.marts import contract_extracts
from pipelines.assets.quality import steward_queue
from pipelines.marts import build_portal_marts
from pipelines.resources import StoreResource


@dg.asset(key_prefix="marts", group_name="marts", deps=[contract_extracts, steward_queue], kinds={"duckdb"},
          description="marts.portal_areas, portal_dates, portal_issue_counts：门户页面读取的小汇总表（不扫描人员表）。")
def portal_marts(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect(macros=False) as conn:
        return dg.MaterializeResult(metadata=build_portal_marts(conn))
