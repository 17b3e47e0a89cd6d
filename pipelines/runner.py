"""`onceonly run`: materialise the whole asset graph in-process, then summarise from the store.

The same graph runs under `dagster dev`; this is the command-line way in, with the run
recorded in the Dagster instance when DAGSTER_HOME is set (the Makefile sets it).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines import progress as run_progress
from pipelines import versions
from pipelines.paths import last_run_path, store_path
from pipelines.reports.run_report import file_answer
from pipelines.resources import RunSettings, StoreResource


@dataclass
class RunSummary:
    success: bool
    home: Path
    as_of: dt.date
    batches: list[tuple] = field(default_factory=list)       # (file_name, status, read, loaded, rejected, message)
    inbox: list[tuple] = field(default_factory=list)         # raw.inbox_files: (path, kind, outcome, reason, message)
    status_counts: dict[str, int] = field(default_factory=dict)
    tasks: list[tuple] = field(default_factory=list)           # (kind in Chinese, open, opened on D, closed on D, overdue)
    queue: dict | None = None                                   # this run's rebuild of the steward queue
    reports_dir: Path | None = None
    error: str | None = None
    version: str | None = None          # the version this run built
    published: bool = False
    live: versions.Version | None = None  # the live version after the run

    def render(self) -> str:
        lines = []
        if not self.success:
            lines.append(f"运行失败：{self.error}")
        lines += inbox_lines(self.batches, self.inbox, self.as_of)
        if self.status_counts:
            lines.append("人员状态：" + "，".join(f"{k} {v}" for k, v in self.status_counts.items()))
        if self.tasks:
            lines.append("核查任务：" + "；".join(
                f"{kind} 待办 {n_open}（本期新开 {opened}、办结 {closed}"
                + (f"、逾期 {overdue}" if overdue else "") + "）"
                for kind, n_open, opened, closed, overdue in self.tasks))
        if self.queue:
            q = self.queue
            lines.append(f"问题清单：本次应用修正 {q['corrections_in_force']} 条（新提交的决定 {q['corrections_new']} 条），"
                         f"关闭问题 {q['closed']} 条、新增问题 {q['opened']} 条；待处理 {q['open']} 条，"
                         f"已修正 {q['fixed']} 条，已忽略 {q['waived']} 条")
        if self.reports_dir:
            lines.append(f"报表目录：{self.reports_dir}")
        if self.published:
            lines.append(f"数据版本：{self.version} 已发布，门户与各命令现在使用它（onceonly runs 查看各版本，"
                         "onceonly rollback 回到上一版本）")
        elif self.version:
            shown = (f"版本 {self.live.id}（{self.live.built_at or '时间不详'} 构建）" if self.live else "尚无已发布的数据")
            lines.append(f"数据版本：{self.version} 未发布；门户与各命令继续使用{shown}")
        lines.append(f"数据库：{store_path(self.home)}")
        return "\n".join(lines)


def inbox_lines(batches: list[tuple], inbox: list[tuple], as_of: dt.date) -> list[str]:
    """The inbox's answer, once per file: the files read this run with their rows, then every file or
    folder still not loaded (refused, a copy, not a table, in no template folder) with why."""
    files = [r for r in inbox if r[1] == "file"]
    count = {o: sum(1 for r in files if r[2] == o) for o in ("loaded", "rejected", "duplicate", "ignored")}
    new = {b[0] for b in batches}
    if files:
        earlier = count["loaded"] - sum(1 for b in batches if b[1] == "loaded")
        parts = [f"本次导入 {len(batches) - sum(1 for b in batches if b[1] == 'rejected')} 个"]
        if earlier:
            parts.append(f"此前已导入 {earlier} 个")
        parts += [f"{label} {count[o]} 个" for o, label in (("rejected", "拒收"), ("duplicate", "重复"),
                                                            ("ignored", "未读取")) if count[o]]
        lines = [f"收件箱共 {len(files)} 个文件：" + "，".join(parts) + f"（统计截止日期 {as_of}）"]
    else:
        lines = [f"本次新加载文件 {len(batches)} 个（统计截止日期 {as_of}）"]
    for name, status, read, loaded, rejected, message in batches:
        if status == "rejected":
            lines.append(f"  ✗ {name}：整个文件被拒收 — {file_answer(name, message)}")
        else:
            flag = "✓" if not rejected else "!"
            lines.append(f"  {flag} {name}：读取 {read} 行，加载 {loaded} 行，拒收 {rejected} 行")
    ignored_folders = [r[0] for r in inbox if r[1] == "folder" and r[2] == "ignored"]
    system = []
    for path, kind, outcome, reason, message in inbox:
        if outcome not in ("rejected", "duplicate", "ignored") or path in new:
            continue
        if kind == "file" and any(path.startswith(f) for f in ignored_folders):
            continue   # its folder's line says why
        if reason in ("hidden", "lock_file") and kind == "file":
            system.append(path)
            continue
        mark = {"rejected": "✗", "duplicate": "="}.get(outcome, "-")
        state = "此前已被拒收，仍未导入" if outcome == "rejected" else "未导入" if kind == "file" else "未读取"
        lines.append(f"  {mark} {path}：{state} — {file_answer(path, message)}")
    if system:
        shown = "、".join(system[:3]) + ("等" if len(system) > 3 else "")
        lines.append(f"  - 另有 {len(system)} 个隐藏文件或临时文件未读取（{shown}）")
    return lines


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs show in the UI), else a throwaway one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_pipeline(*, home: Path, inbox: Path, as_of: dt.date, freshness_days: int = 365,
                 memory_limit: str | None = None, instance: dg.DagsterInstance | None = None,
                 progress: run_progress.Progress | None = None, verbose: bool = False,
                 allow_future: bool = False) -> RunSummary:
    """``progress`` is told each stage and file (pipelines/progress.py; by default nothing is shown, the
    stage times are still kept for the next run's estimate). Dagster's own log lines go to its event
    log only, unless ``verbose``. An ``as_of`` after today is refused unless ``allow_future``."""
    from pipelines.asof import FutureAsOf, check_as_of
    from pipelines.definitions import all_assets, all_checks

    home = Path(home).resolve()
    started = dt.datetime.now()
    try:
        check_as_of(as_of, allow_future=allow_future)   # before a build begins (the settings check it again)
    except FutureAsOf as exc:
        return RunSummary(False, home, as_of, error=str(exc))
    resources = {
        "store": StoreResource(home=str(home), memory_limit=memory_limit),
        "settings": RunSettings(home=str(home), inbox=str(Path(inbox).resolve()), as_of=as_of.isoformat(),
                                freshness_days=freshness_days, allow_future=allow_future),
    }
    if not Path(inbox).is_dir():
        return RunSummary(False, home, as_of, error=f"收件箱目录不存在：{inbox}")
    if not store_path(home).exists() and not any(p.is_file() for p in Path(inbox).rglob("*")):
        # a first run with nothing to read would fail at the reports ("no status for that date")
        return RunSummary(False, home, as_of, error=f"收件箱 {inbox} 里还没有文件，数据库也尚未建立："
                                                    "请先把各平台导出的表格按模板放进收件箱（见 README），再运行。")
    last_run_path(home).unlink(missing_ok=True)
    instance = instance or dagster_instance()
    progress = progress or run_progress.Progress(home / run_progress.STAGE_TIMES)
    with run_progress.watching(instance, progress):
        result = dg.materialize([*all_assets, *all_checks], resources=resources, instance=instance,
                                raise_on_error=False,
                                run_config={"loggers": {"console": {"config": {
                                    "log_level": "INFO" if verbose else "CRITICAL"}}}},
                                tags={"as_of": as_of.isoformat()})
    progress.finish(result.success)
    # what the run built, from the record its version keeps (pipelines/resources.py _summarise)
    summary = RunSummary(result.success, home, as_of, live=versions.live(home))
    built = next((v for v in versions.list_versions(home) if v.record.get("pid") == os.getpid()
                  and (v.record.get("started_at") or "") >= started.isoformat(sep=" ", timespec="seconds")), None)
    if built is not None:
        summary.version = built.id
        summary.published = built.live
        summary.batches = [tuple(b[:6]) for b in built.record.get("new_batches", [])]
        summary.inbox = [tuple(r) for r in built.record.get("inbox", [])]
        summary.status_counts = built.record.get("status_counts", {})
        summary.tasks = [tuple(t) for t in built.record.get("tasks", [])]
        summary.queue = built.record.get("queue")
    if not result.success:
        summary.error = "; ".join(_failures(result.all_events))[:2000] or "未知错误"
    elif not summary.published:
        summary.success = False
        summary.error = (built.record.get("error") if built else None) or "运行结束但新版本未发布"
    reports = home / "reports" / as_of.isoformat()
    summary.reports_dir = reports if summary.published and reports.exists() else None
    return summary


def _failures(events) -> list[str]:
    """Why the run failed: each failed step and its cause; else the store that could not be opened (the store
    resource opens it once for the whole run, before any step); else the run's own failure."""
    steps = [f"{e.step_key}: {_cause(e.step_failure_data.error)}" for e in events if e.is_step_failure]
    if steps:
        return steps
    resources = [_cause(e.engine_event_data.error) for e in events
                 if e.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE and e.engine_event_data.error]
    if resources:
        return resources
    return [_cause(e.job_failure_data.error) for e in events
            if e.event_type == dg.DagsterEventType.RUN_FAILURE and e.job_failure_data.error]


def _cause(error) -> str:
    """The message of the exception that started it, not of Dagster's wrapper ("Error occurred while executing op")."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    if locked := re.search(r"Conflicting lock is held in .*\(PID (\d+)\)", message):
        # the portal, `dagster dev` or another run has the store open
        return f"数据库正被另一个程序（进程号 {locked[1]}）打开，请等它结束或关闭后再运行。（{message}）"
    return message
