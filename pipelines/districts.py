"""Partition by district (docs/scale-out.md, step 1): one store per 区县.

A partitioned deployment's inbox is ``inbox/<区县代码>/<template>/<file>``. Each district folder is a
partition of the Dagster asset ``district_store``: its materialisation runs the whole existing graph
(``runner.run_pipeline``, in the step's process, in a throwaway Dagster instance) on ``inbox/<code>`` into
``home/districts/<code>/store.duckdb``. Partitions never share a DuckDB file, so they can run at the same
time, each run in its own process; the city graph, its job and its in-process executor are untouched.
``onceonly run --by-district`` re-runs only the districts whose inputs changed since their last successful
run (``last_run.json`` beside each store; ``--all`` runs all).
"""
import contextlib
import datetime as dt
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.code_signature import code_signature
from pipelines.paths import REPO_ROOT, last_run_path, store_path
from pipelines.resources import RunSettings
from pipelines.store import env_memory_limit
from pipelines.sensors import inbox_fingerprint

DISTRICT_CODE = re.compile(r"\d{6}")
DEFAULT_PARALLEL = 2
district_partitions = dg.DynamicPartitionsDefinition(name="district")


# --- discovery (file names only: the sensor calls it, and sensors never open DuckDB) -------

def discover(inbox: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """District codes under ``inbox`` (sorted), and the folders left out with the reason why."""
    from pipelines.sources import load_catalog

    inbox = Path(inbox)
    templates = set(load_catalog().templates)
    codes, skipped = [], []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir()) if inbox.is_dir() else []:
        name = folder.name
        if name.startswith("."):
            continue
        if name in templates:
            skipped.append((name, "是采集模板文件夹，不是区县文件夹：按区县运行时文件应放在 收件箱/<区县代码>/<模板>/ 下"))
        elif not DISTRICT_CODE.fullmatch(name):
            skipped.append((name, "文件夹名不是6位区县代码"))
        elif not any((folder / t).is_dir() for t in templates):
            skipped.append((name, "其中没有任何采集模板文件夹（" + "、".join(sorted(templates)) + "）"))
        else:
            codes.append(name)
    return codes, skipped


def district_home(home: Path, code: str) -> Path:
    return Path(home) / "districts" / code


def progress_path(home: Path, code: str) -> Path:
    """Where a district's run writes how far it is (pipelines/progress.py, StateFile)."""
    return district_home(Path(home).resolve(), code) / "progress.json"


# --- one district, in its own process ------------------------------------------------------

@dataclass
class DistrictResult:
    code: str
    success: bool
    seconds: float = 0.0
    name: str = ""                 # 区县名称, from the district's core.grids
    persons: int = 0               # core.persons
    records: int = 0               # core.person_records
    status_counts: dict[str, int] = field(default_factory=dict)
    store: str = ""
    error: str | None = None
    skipped: bool = False           # nothing changed since its last successful run: not run again

    @property
    def residents(self) -> int:
        return self.status_counts.get("在住", 0)

    def metadata(self) -> dict:
        return {"persons": self.persons, "records": self.records, "residents": self.residents,
                "seconds": round(self.seconds, 1), "district_name": self.name,
                "status_counts": dg.MetadataValue.json(self.status_counts),
                "store": dg.MetadataValue.path(self.store)}

    @classmethod
    def from_metadata(cls, code: str, meta: dict) -> "DistrictResult":
        def value(key, default):
            v = meta.get(key)
            return default if v is None else getattr(v, "value", v)

        return cls(code, True, seconds=float(value("seconds", 0.0)), name=str(value("district_name", "")),
                   persons=int(value("persons", 0)), records=int(value("records", 0)),
                   status_counts=dict(value("status_counts", {})), store=str(value("store", "")))

    def render(self) -> str:
        label = f"{self.code} {self.name}".strip()
        if self.skipped:
            return (f"  = {label}：未变化，未重新运行（收件箱文件、统计截止日期、在住证据有效期、程序版本和数据管理员的"
                    f"修正都与上次成功运行相同；要全部重跑请加 --all）。上次结果：人员 {self.persons}，记录 {self.records}，"
                    f"在住 {self.residents}")
        if not self.success:
            return f"  ✗ {label}：失败（用时 {self.seconds:.1f} 秒）— {self.error}"
        return (f"  ✓ {label}：人员 {self.persons}，记录 {self.records}，在住 {self.residents}，"
                f"用时 {self.seconds:.1f} 秒，成功")


def run_district(*, home: Path, inbox: Path, code: str, as_of: dt.date, freshness_days: int = 365,
                 log=None, allow_future: bool = False) -> DistrictResult:
    """Run the whole graph for one district in this process, then read its figures back (read-only)."""
    from pipelines.progress import STAGE_TIMES, StateFile
    from pipelines.runner import run_pipeline

    dhome = district_home(Path(home).resolve(), code)
    started = time.monotonic()
    # A throwaway instance for the inner run: it materialises the city graph's asset keys, which in the shared
    # instance would show as the city's assets built from one district's store. district_store is the record.
    # Its progress goes to a file beside its store, for `onceonly run --by-district` to show.
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_pipeline(home=dhome, inbox=Path(inbox).resolve() / code, as_of=as_of,
                               freshness_days=freshness_days, memory_limit=env_memory_limit(), instance=instance,
                               progress=StateFile(progress_path(home, code), dhome / STAGE_TIMES),
                               allow_future=allow_future)
    result = DistrictResult(code, summary.success, store=str(store_path(dhome)), error=summary.error)
    if log is not None:
        (log.info if summary.success else log.error)(summary.render())
    if result.success:
        _read_back(result, code)
    result.seconds = time.monotonic() - started
    return result


def _why(stdout: str, stderr: str) -> str:
    """The line that says why: the run summary's 运行失败 line, else the last line of the traceback or message."""
    failed = [line for line in stdout.splitlines() if line.startswith("运行失败：")]
    if failed:
        return failed[0].removeprefix("运行失败：")[:1500]
    lines = [line.strip() for line in (stderr or stdout).splitlines() if line.strip()]
    return lines[-1][:1500] if lines else "（没有输出）"


def _read_back(result: DistrictResult, code: str) -> None:
    from pipelines.store import Store

    store = Store(result.store)
    with store.connect(read_only=True, macros=False) as conn:
        result.persons = conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0]
        result.records = conn.execute("SELECT count(*) FROM core.person_records").fetchall()[0][0]
        result.status_counts = dict(conn.execute(
            "SELECT status, count(*) FROM core.person_status GROUP BY status ORDER BY status").fetchall())
        districts = conn.execute("SELECT DISTINCT district_code, district_name FROM core.grids "
                                 "ORDER BY district_code").fetchall()
    result.name = "、".join(sorted({n for c, n in districts if c == code and n}))
    others = sorted({c for c, _ in districts if c != code})
    if others:
        # Its totals would be counted twice in a city total: a file sits in the wrong district folder.
        result.success = False
        result.error = f"收件箱 {code} 中的网格划分表含其他区县的网格（{'、'.join(map(str, others))}），请把文件移到对应区县文件夹"


# --- Dagster ------------------------------------------------------------------------------

@dg.asset(partitions_def=district_partitions, group_name="districts", kinds={"duckdb"},
          description="一个区县的整条流水线，写入 home/districts/<区县代码>/store.duckdb；"
                      "各区县写各自的文件，可并行。")
def district_store(context: dg.AssetExecutionContext, settings: RunSettings) -> dg.MaterializeResult:
    code = context.partition_key
    result = run_district(home=settings.home_path, inbox=settings.inbox_path, code=code,
                          as_of=settings.as_of_date, freshness_days=settings.freshness_days, log=context.log,
                          allow_future=settings.allow_future)
    if not result.success:
        raise dg.Failure(description=result.error,
                         metadata={"seconds": round(result.seconds, 1), "store": dg.MetadataValue.path(result.store)})
    return dg.MaterializeResult(metadata=result.metadata())


district_job = dg.define_asset_job(
    "district_job", selection=dg.AssetSelection.assets(district_store), partitions_def=district_partitions,
    # One run is one partition, its step in the run's own process (the run launcher starts one per run; the
    # CLI runs one district in its own process, or one process per district side by side: `--parallel N`).
    executor_def=dg.in_process_executor,
    description="按区县分区：每个区县一个运行，整条流水线写入该区县自己的数据库",
)


@dg.sensor(job=district_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="收件箱中出现新的区县文件夹时加入分区；某区县的文件有变化时只运行该区县（不打开数据库）。")
def district_sensor(context: dg.SensorEvaluationContext, settings: RunSettings):
    codes, _ = discover(settings.inbox_path)
    seen = json.loads(context.cursor) if context.cursor else {}
    prints = {code: inbox_fingerprint(settings.inbox_path / code) for code in codes}
    known = set(context.instance.get_dynamic_partitions(district_partitions.name))
    new = [code for code in codes if code not in known]
    requests = [dg.RunRequest(partition_key=code, run_key=f"{code}:{fp}",
                              run_config={"resources": {"settings": {"config": {
                                  "home": settings.home, "inbox": settings.inbox,
                                  "as_of": settings.as_of, "freshness_days": settings.freshness_days,
                                  "allow_future": settings.allow_future}}}})
                for code, fp in prints.items() if seen.get(code) != fp]
    if not requests and not new:
        return dg.SkipReason("各区县收件箱没有变化")
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(prints, sort_keys=True),
                           dynamic_partitions_requests=[district_partitions.build_add_request(new)] if new else [])


@dg.asset(group_name="districts", kinds={"duckdb"}, deps=[district_store],
          description="全市合并：各区县数据库（只读）合成 home/city/store.duckdb——跨区县的同一人合并为一人，"
                      "按全市证据判定状态，生成全市网格人口、名单和报表（pipelines/city.py）。")
def city_store(settings: RunSettings) -> dg.MaterializeResult:
    from pipelines.city import city_pass

    result = city_pass(home=settings.home_path, as_of=settings.as_of_date, freshness_days=settings.freshness_days,
                       memory_limit=env_memory_limit())
    return dg.MaterializeResult(metadata={
        "districts": ", ".join(result.districts), "persons": result.persons, "shared": result.shared,
        "typo": result.typo, "model": result.model, "touched": result.touched, "seconds": round(result.seconds, 1),
        "status_counts": dg.MetadataValue.json(result.status_counts),
        "store": dg.MetadataValue.path(str(store_path(result.home)))})


city_job = dg.define_asset_job(
    "city_job", selection=dg.AssetSelection.assets(city_store), executor_def=dg.in_process_executor,
    description="全市合并：在各区县运行之后，把各区县数据库合成全市数据库（一人一状态）",
)


def district_job_definition() -> dg.JobDefinition:
    """district_job resolved with its one resource, for the CLI's runs (`dagster dev` resolves it in definitions.py)."""
    from pipelines.resources import default_resources

    return dg.Definitions(assets=[district_store], jobs=[district_job],
                          resources={"settings": default_resources()["settings"]}).resolve_job_def(district_job.name)


# --- every district at once (`onceonly run --by-district`) -------------------------------
# One district at a time runs in this process. Side by side, each partition's run is a process of its own:
# Dagster runs executed from threads of one process deadlock on the logging module's locks (dictConfig
# against a handler's emit), seen here.

RESULT_MARK = "ONCEONLY_DISTRICT_RESULT "


# --- what a district's run read: unchanged inputs mean an unchanged store ------------------
# Beside each district's store, after its last successful run. The store is a function of these (the same
# files, D and window, code and stewards' decisions give the same bytes), so a district whose inputs all
# match is not run again: a batch for one district re-runs that district only.
def _corrections(store: Path) -> list | None:
    """Count and newest time of the stewards' decisions: corrections and address decisions the live store holds,
    and those waiting in the home's database for the next build (made in the portal between runs); None when the
    store cannot be read (a district that then runs, and says why it fails)."""
    from pipelines.quality.pending import summary
    from pipelines.store import Store, StoreKeyError, table_exists

    if not store.exists():
        return None
    try:
        waiting = summary(store.parent)
        with Store(store).connect(read_only=True, macros=False) as conn:
            out = []
            for table in ("quality.corrections", "quality.address_aliases"):
                if table_exists(conn, table):
                    out += list(conn.execute(f'SELECT count(*), max("at")::VARCHAR FROM {table}').fetchall()[0])
                else:
                    out += [0, None]
            return out + list(waiting)
    except (duckdb.Error, OSError, StoreKeyError):   # unreadable, locked, or a wrong key: "changed"; the run says why
        return None


def run_inputs(*, home: Path, inbox: Path, code: str, as_of: dt.date, freshness_days: int, code_sig: str) -> dict:
    """Everything a district's run reads besides its store's own past: compared with ``last_run.json``."""
    return {"inbox": inbox_fingerprint(Path(inbox) / code), "as_of": as_of.isoformat(),
            "freshness_days": freshness_days, "code": code_sig,
            "corrections": _corrections(store_path(district_home(home, code)))}


def _unchanged(home: Path, code: str, inputs: dict) -> bool:
    last = last_run_path(district_home(home, code))
    if not last.exists() or not store_path(district_home(home, code)).exists():
        return False
    try:
        return json.loads(last.read_text(encoding="utf-8")) == inputs
    except ValueError:
        return False


def _skipped(home: Path, code: str) -> DistrictResult:
    result = DistrictResult(code, True, store=str(store_path(district_home(home, code))), skipped=True)
    _read_back(result, code)
    return result


def run_districts(*, home: Path, inbox: Path, as_of: dt.date, freshness_days: int = 365,
                  parallel: int = DEFAULT_PARALLEL, codes: list[str] | None = None,
                  rerun_all: bool = False, on_done=None, allow_future: bool = False) -> list[DistrictResult]:
    """One district_job run per district whose inputs changed since its last successful run (every district
    with ``rerun_all``), ``parallel`` at a time, each run in its own process; a failed district never stops
    the others. Runs go to $DAGSTER_HOME's instance when it is set. ``on_done(result)`` is called as each
    district ends (or is found unchanged)."""
    home, inbox = Path(home).resolve(), Path(inbox).resolve()
    codes = discover(inbox)[0] if codes is None else codes
    if not codes:
        return []
    code_sig = code_signature()
    inputs = {code: run_inputs(home=home, inbox=inbox, code=code, as_of=as_of, freshness_days=freshness_days,
                               code_sig=code_sig) for code in codes}
    done = {code: _skipped(home, code) for code in codes if not rerun_all and _unchanged(home, code, inputs[code])}
    todo = [code for code in codes if code not in done]
    for result in done.values():
        if on_done is not None:
            on_done(result)
    for code in todo:
        progress_path(home, code).unlink(missing_ok=True)   # a state left by an earlier run is not this one's
    for code, result in zip(todo, _run_all(home=home, inbox=inbox, as_of=as_of, freshness_days=freshness_days,
                                           parallel=parallel, codes=todo, on_done=on_done,
                                           allow_future=allow_future)):
        if result.success:
            # The run may itself have recorded decisions (a stewards' workbook in the inbox): read them after.
            inputs[code]["corrections"] = _corrections(store_path(district_home(home, code)))
            last_run_path(district_home(home, code)).write_text(json.dumps(inputs[code], ensure_ascii=False),
                                                                encoding="utf-8")
        else:
            last_run_path(district_home(home, code)).unlink(missing_ok=True)
        done[code] = result
    return [done[code] for code in codes]


def _run_all(*, home: Path, inbox: Path, as_of: dt.date, freshness_days: int, parallel: int,
             codes: list[str], on_done=None, allow_future: bool = False) -> list[DistrictResult]:
    if not codes:
        return []
    args = {"home": str(home), "inbox": str(inbox), "as_of": as_of.isoformat(), "freshness_days": freshness_days,
            "allow_future": allow_future}

    def told(result: DistrictResult) -> DistrictResult:
        if on_done is not None:
            on_done(result)
        return result

    with _instance(codes) as instance:
        if parallel == 1 or len(codes) == 1:
            return [told(_execute(code, instance, args)) for code in codes]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(lambda code: told(_launch(code, args)), codes))


@contextlib.contextmanager
def _instance(codes: list[str]):
    """$DAGSTER_HOME's instance (the runs show in the UI), else a throwaway one; the districts' partitions added."""
    from pipelines.runner import dagster_instance

    with dagster_instance() as instance:
        known = set(instance.get_dynamic_partitions(district_partitions.name))
        new = [c for c in codes if c not in known]
        if new:
            instance.add_dynamic_partitions(district_partitions.name, new)
        yield instance


def _execute(code: str, instance: dg.DagsterInstance, args: dict) -> DistrictResult:
    """One partition's run of district_job, in this process."""
    started = time.monotonic()
    run = district_job_definition().execute_in_process(
        run_config={"resources": {"settings": {"config": args}},
                    "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        instance=instance, partition_key=code, raise_on_error=False, tags={"as_of": args["as_of"]})
    return _result_of(code, run, time.monotonic() - started)


def _launch(code: str, args: dict) -> DistrictResult:
    """One partition's run in a process of its own (``main``)."""
    started = time.monotonic()
    cmd = [sys.executable, "-c", "import sys; from pipelines.districts import main; sys.exit(main(sys.argv[1:]))",
           code, json.dumps(args)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, encoding="utf-8", errors="replace")
    seconds = time.monotonic() - started
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = DistrictResult(**json.loads(line[len(RESULT_MARK):]))
            result.seconds = seconds    # the whole run, process start-up included: what the user waited
            return result
    return DistrictResult(code, False, seconds, error=f"区县运行进程退出码 {proc.returncode}：{_why(proc.stdout, proc.stderr)}")


def main(argv: list[str]) -> int:
    """``_launch``'s process: argv is the district code and the settings as JSON; prints the result as JSON."""
    from dataclasses import asdict

    code, args = argv[0], json.loads(argv[1])
    with _instance([code]) as instance:
        result = _execute(code, instance, args)
    print(RESULT_MARK + json.dumps(asdict(result), ensure_ascii=False), flush=True)
    return 0 if result.success else 1


def _result_of(code: str, result, seconds: float) -> DistrictResult:
    if result.success:
        done = result.asset_materializations_for_node(district_store.op.name)
        if done:
            return DistrictResult.from_metadata(code, done[-1].metadata)
    failures = [e for e in result.get_step_failure_events() if e.step_failure_data]
    # A dg.Failure raised by the asset carries our own sentence; anything else shows its error message.
    message = "; ".join(
        (e.step_failure_data.user_failure_data.description
         if e.step_failure_data.user_failure_data and e.step_failure_data.user_failure_data.description
         else (e.step_failure_data.error.message.strip() if e.step_failure_data.error else ""))
        for e in failures) or "运行失败（无步骤错误信息）"
    meta = {}
    for e in failures:
        meta.update(getattr(e.step_failure_data.user_failure_data, "metadata", None) or {})
    store = meta.get("store")
    return DistrictResult(code, False, seconds, store=str(getattr(store, "value", store) or ""),
                          error=message[:2000])
