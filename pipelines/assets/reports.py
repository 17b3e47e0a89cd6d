"""reports: one asset per report family (HTML + XLSX + full lists as CSV) for the run's date, and the
index page listing them with their lineage (the batches they come from)."""
import dagster as dg

from pipelines.assets.marts import contract_extracts
from pipelines.assets.quality import steward_queue
from pipelines.reports import TITLES, render_all
from pipelines.reports.run_report import build_tables
from pipelines.resources import RunSettings, StoreResource

FAMILY_KEYS = {name: dg.AssetKey(["reports", name.replace("-", "_")]) for name in TITLES}
INDEX_KEY = dg.AssetKey(["reports", "index"])


@dg.asset(key_prefix="marts", group_name="reports", deps=[contract_extracts, steward_queue], kinds={"duckdb"},
          description="运行报告的表（marts.run_meta、run_files、run_sources、run_changes、run_transitions）：本次运行对"
                      "收件箱每个文件的处理结果，以及与上一数据版本相比的变化（上一版本只读挂载比较）。")
def run_report(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    build = store.build
    base = build.base if build.base is not None and build.base.has_store else None
    with store.get().connect() as conn:
        made = build_tables(conn, as_of=settings.as_of_date, version=build.id,
                            previous=base.store if base else None, base_version=base.id if base else None)
    return dg.MaterializeResult(metadata={**made, "base": base.id if base else "无"})


@dg.multi_asset(
    specs=[
        *(dg.AssetSpec(key, group_name="reports", kinds={"html", "excel"}, description=TITLES[name],
                       deps=[contract_extracts, steward_queue, run_report])
          for name, key in FAMILY_KEYS.items()),
        dg.AssetSpec(INDEX_KEY, group_name="reports", kinds={"html"}, deps=list(FAMILY_KEYS.values()),
                     description="报表索引页：最新报表及其来源批次。"),
    ],
    name="department_reports",
)
def department_reports(store: StoreResource, settings: RunSettings):
    # All families render on one connection: they share the as-of preparation (rp_* tables).
    # Into the version being built: home/reports/<as-of> shows the live version's, copied there on publish.
    # A report whose content is unchanged keeps the base version's files (pipelines/reports/kept.py).
    out_dir = store.build.reports_dir(settings.as_of_date)
    base = store.build.base
    with store.get().connect() as conn:
        render_all(conn, out_dir=out_dir, as_of=settings.as_of_date, home=settings.home_path,
                   previous=base.dir / out_dir.relative_to(store.build.dir) if base is not None else None)
    for name, key in FAMILY_KEYS.items():
        files = sorted(p.name for p in out_dir.glob(f"{name}*"))
        yield dg.MaterializeResult(asset_key=key, metadata={
            "files": ", ".join(files),
            "xlsx": dg.MetadataValue.path(str(out_dir / f"{name}.xlsx")),
            "html": dg.MetadataValue.path(str(out_dir / f"{name}.html")),
        })
    yield dg.MaterializeResult(asset_key=INDEX_KEY,
                               metadata={"index": dg.MetadataValue.path(str(out_dir / "index.html"))})
