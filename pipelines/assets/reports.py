"""reports: every department report (HTML + XLSX) for the run's date, and their index page."""

import dagster as dg

from pipelines.assets.marts import contract_extracts
from pipelines.assets.quality import steward_queue
from pipelines.reports import render_all
from pipelines.resources import RunSettings, StoreResource


@dg.asset(key_prefix="reports", group_name="reports", deps=[contract_extracts, steward_queue], kinds={"html", "excel"},
          description="实有人口统计月报、网格规范达标、民政救助核查表等全部报表（HTML + XLSX）及索引页。")
def department_reports(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    out_dir = settings.home_path / "reports" / settings.as_of_date.isoformat()
    with store.get().connect() as conn:
        paths = render_all(conn, out_dir=out_dir, as_of=settings.as_of_date)
    index = out_dir / "index.html"
    return dg.MaterializeResult(metadata={
        "files": len(paths),
        "index": dg.MetadataValue.path(str(index)),
    })
