"""Start a run when the inbox changes. Sensors never open DuckDB (one writer process):
they only look at file names, sizes and modification times."""

import hashlib
from pathlib import Path

import dagster as dg

from pipelines.ingest.readers import INBOX_SUFFIXES
from pipelines.resources import RunSettings


def inbox_fingerprint(inbox: Path) -> str:
    """A cheap digest of what is in the inbox; the run itself identifies batches by content."""
    digest = hashlib.sha256()
    if inbox.is_dir():
        for path in sorted(p for p in inbox.rglob("*") if p.suffix.lower() in INBOX_SUFFIXES):
            stat = path.stat()
            digest.update(f"{path.relative_to(inbox)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def build_inbox_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
               description="新文件放入收件箱后自动运行一次整条流水线（只看文件名/大小/时间，不打开数据库）。")
    def inbox_sensor(context: dg.SensorEvaluationContext, settings: RunSettings):
        fingerprint = inbox_fingerprint(settings.inbox_path)
        if fingerprint == context.cursor:
            return dg.SkipReason("收件箱没有变化")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)

    return inbox_sensor
