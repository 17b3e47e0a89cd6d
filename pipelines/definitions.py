"""The Dagster code location: `dagster dev` (DAGSTER_HOME = repo root) loads this module.

Every step runs in-process: DuckDB allows one writer process, and the multiprocess
executor's steps would collide on the store's file lock. The district partitions
(pipelines/districts.py) are the exception: each writes its own store, from its own process.
"""

import datetime as dt

import dagster as dg

from pipelines.assets import core, identity, ingest, marts, portal, quality, reports, staging, status
from pipelines.assets.publish import publish_asset
from pipelines.districts import city_job, city_store, district_job, district_sensor, district_store
from pipelines.resources import default_resources
from pipelines.sensors import build_inbox_sensor

ASSET_MODULES = (ingest, staging, core, identity, status, marts, quality, reports, portal)

all_assets = [*(graph := dg.load_assets_from_modules(list(ASSET_MODULES))), publish_asset(graph)]
all_checks = dg.load_asset_checks_from_modules(list(ASSET_MODULES))

RESOURCES = default_resources()

pipeline_job = dg.define_asset_job(
    "onceonly_pipeline", selection=dg.AssetSelection.all() - dg.AssetSelection.assets(district_store, city_store),
    description="收件箱 → 原始层 → 标准化 → 核心（人员、房屋、状态）→ 数据集市 → 报表",
)



@dg.schedule(job=pipeline_job, cron_schedule="0 6 1 * *", execution_timezone="Asia/Shanghai",
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="每月1日早6点运行，统计截止日期为上月最后一天。")
def monthly_reports(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    month_end = context.scheduled_execution_time.date().replace(day=1) - dt.timedelta(days=1)
    settings = RESOURCES["settings"]
    config = {"home": settings.home, "inbox": settings.inbox, "as_of": month_end.isoformat(),
              "freshness_days": settings.freshness_days}
    return dg.RunRequest(run_key=month_end.isoformat(), run_config={"resources": {"settings": {"config": config}}})

defs = dg.Definitions(
    assets=[*all_assets, district_store, city_store],
    asset_checks=all_checks,
    jobs=[pipeline_job, district_job, city_job],
    sensors=[build_inbox_sensor(pipeline_job), district_sensor],
    schedules=[monthly_reports],
    resources=RESOURCES,
    executor=dg.in_process_executor,
)
