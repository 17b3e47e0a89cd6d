"""portal: what the portal reads, prepared with each store version — small aggregates instead of scans of the person
and issue tables, and every jurisdiction's report files (pipelines/publish/rendered.py)."""
import os

import dagster as dg

from pipelines.assets.marts import contract_extracts
from pipelines.assets.quality import steward_queue
from pipelines.assets.reports import INDEX_KEY
from pipelines.marts import build_portal_marts
from pipelines.publish.extracts import materialize_extracts
from pipelines.publish.rendered import prerender
from pipelines.resources import RunSettings, StoreResource


@dg.asset(key_prefix="marts", group_name="marts", deps=[contract_extracts, steward_queue], kinds={"duckdb"},
          description="marts.portal_areas, portal_dates, portal_issue_counts：门户页面读取的小汇总表（不扫描人员表）。")
def portal_marts(store: StoreResource) -> dg.MaterializeResult:
    with store.get().connect(macros=False) as conn:
        return dg.MaterializeResult(metadata=build_portal_marts(conn))


@dg.asset(key_prefix="marts", group_name="marts", deps=[contract_extracts], kinds={"duckdb"},
          description="marts.extract_<数据集>：各数据提取在统计截止日期的全部行（未脱敏、全部列），随数据版本保存；"
                      "门户生成提取文件时只扫描这一张表，脱敏、列授权和辖区在写文件时施加。")
def extract_tables(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        return dg.MaterializeResult(metadata=materialize_extracts(conn, settings.as_of_date))


def prerender_limit() -> int:
    """How many jurisdictions (streets first, then communities) get their report files with each version:
    ``$ONCEONLY_PRERENDER_SCOPES`` (default 300; a 21M city has ≈ 3,000 communities, made on first request)."""
    return int(os.environ.get("ONCEONLY_PRERENDER_SCOPES") or 300)


@dg.asset(key_prefix="reports", group_name="reports", deps=[INDEX_KEY, portal_marts, extract_tables],
          kinds={"html", "excel", "csv", "parquet"},
          description="门户的文件：每个街道和社区的各报表（HTML、XLSX、人员名单 CSV）和各部门的数据提取（CSV、Parquet）"
                      "随数据版本预先生成，同一辖区的用户下载同一份文件，无需临时生成。")
def portal_files(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        base = store.build.base
        made = prerender(conn, store.build.dir, settings.as_of_date, limit=prerender_limit(),
                         previous_dir=base.dir if base is not None else None)
    return dg.MaterializeResult(metadata={**made, "limit": prerender_limit()})

