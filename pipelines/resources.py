"""Dagster resources, declared once: the store and the run's settings."""
from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from pipelines import versions
from pipelines.paths import default_home
from pipelines.quality import pending
from pipelines.store import Store, env_memory_limit


class StoreResource(dg.ConfigurableResource):
    """The store a run builds: a new version of the store under ``home`` (pipelines/versions.py), started from the
    live one and published when the run ends well. Open it only from in-process steps."""

    home: str
    memory_limit: str | None = None
    threads: int | None = None
    _store: Store | None = PrivateAttr(default=None)
    _build: versions.Build | None = PrivateAttr(default=None)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        # The run's steps share one open database (Store.held_open) instead of each opening the file. The bench
        # builds a city the same way, on one connection for every stage: its peak RSS is this memory profile.
        home = Path(self.home)
        run = (context.run_id or "")[:8]
        build = versions.begin_build(home, what=f"onceonly run（运行 {run}）" if run else "onceonly run")
        store = Store(build.store_path, memory_limit=self.memory_limit, threads=self.threads)
        try:
            with store.held_open():
                waiting = _adopt_home_writes(store, home)
                self._store, self._build = store, build
                try:
                    yield self
                finally:
                    self._store, self._build = None, None
                    _summarise(store, build)
        except BaseException as exc:
            build.finish(succeeded=False, error=f"{type(exc).__name__}: {exc}")
            raise
        failed = _failed_steps(context)
        published = build.finish(succeeded=not failed, error="；".join(failed) or None)
        if published is not None:
            pending.mark_published(home, waiting, published.id)

    @property
    def build(self) -> versions.Build | None:
        """The version this run builds (None outside a run)."""
        return self._build

    def get(self) -> Store:
        if self._store is None:
            raise RuntimeError("StoreResource.get() outside a run: the store is built only inside a run")
        return self._store


def _adopt_home_writes(store: Store, home: Path) -> list[str]:
    """What was written to the home's database since the base version was built, into the new version: stewards'
    decisions waiting for a build (and, once, the handout record an older store kept). Returns the decisions' ids."""
    from pipelines.publish.audit import adopt_store_rows

    with store.connect(macros=False) as conn:
        adopt_store_rows(conn, home)
        return pending.import_into(conn, home)


def _summarise(store: Store, build: versions.Build) -> None:
    """What the build holds, into its version record, while its store is still open: the batches it loaded, every
    batch, every inbox file's outcome, persons by status, follow-up tasks by kind, the steward queue's rebuild (what `onceonly run`, `onceonly runs` and the portal's run page
    show)."""
    from pipelines.store import table_exists

    started = dt.datetime.fromisoformat(build.version.record["started_at"])
    record: dict = {"built_at": dt.datetime.now().isoformat(sep=" ", timespec="seconds")}
    try:
        with store.connect() as conn:
            if table_exists(conn, "raw.batches"):
                record["new_batches"] = [list(r) for r in conn.execute(
                    "SELECT file_name, status, rows_read, rows_loaded, rows_rejected, message, batch_id "
                    "FROM raw.batches WHERE loaded_at >= ? ORDER BY file_name", [started]).fetchall()]
                record["batches"] = dict(zip(("files", "loaded", "rejected", "newest"), conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = "
                    "'rejected'), max(loaded_at)::VARCHAR FROM raw.batches").fetchall()[0]))
            if table_exists(conn, "raw.inbox_files"):
                record["inbox"] = [list(r) for r in conn.execute(
                    "SELECT path, kind, outcome, reason, message FROM raw.inbox_files ORDER BY path").fetchall()]
            if table_exists(conn, "core.person_status"):
                record["as_of"] = (conn.execute("SELECT max(as_of)::VARCHAR FROM core.person_status").fetchall()[0][0]
                                   or build.version.record.get("as_of"))
                record["status_counts"] = dict(conn.execute(
                    "SELECT status, count(*) FROM core.person_status GROUP BY status ORDER BY status").fetchall())
            if table_exists(conn, "marts.tasks"):
                as_of = record.get("as_of") or build.version.record.get("as_of")
                record["tasks"] = [list(r) for r in conn.execute("""
                    SELECT task_kind_cn(kind), count(*) FILTER (WHERE state = 'open'),
                           count(*) FILTER (WHERE opened_on = ?::DATE), count(*) FILTER (WHERE closed_on = ?::DATE),
                           count(*) FILTER (WHERE overdue)
                    FROM marts.tasks GROUP BY kind
                    ORDER BY CASE kind WHEN 'verify' THEN 0 WHEN 'deregister' THEN 1 ELSE 2 END""",
                    [as_of, as_of]).fetchall()]
            from pipelines.quality.queue import last_rebuild

            rebuilt = last_rebuild(conn)
            if rebuilt and rebuilt["built_at"] >= started:     # this build's rebuild of the steward queue
                record["queue"] = {k: (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v)
                                   for k, v in rebuilt.items()}
    except Exception as exc:        # noqa: BLE001 — a summary never hides the run's own outcome
        record["summary_error"] = str(exc).splitlines()[0][:500]
    build.version.update(**record)


def _failed_steps(context: dg.InitResourceContext) -> list[str]:
    """The steps of this run that failed (a failed non-blocking check included): such a run publishes nothing."""
    if context.instance is None or context.run_id is None:
        return []
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    return sorted({f"{r.dagster_event.step_key} 失败" for r in records if r.dagster_event is not None})


class RunSettings(dg.ConfigurableResource):
    """What a run works on: the inbox, the reference date, where outputs go. However the date comes — the command
    line, ``ONCEONLY_AS_OF`` (`dagster dev`), a run's config in the Dagster UI, a schedule — a date after today is
    refused when the run starts, with the command line's message (pipelines/asof.py), unless ``allow_future``
    (``--allow-future``; ``ONCEONLY_ALLOW_FUTURE=1``; ``allow_future: true`` in the run config)."""

    home: str
    inbox: str
    as_of: str = ""             # ISO date; empty means today
    freshness_days: int = 365   # contract §2: window W
    allow_future: bool = False

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from pipelines.asof import check_as_of

        check_as_of(self.as_of_date, allow_future=self.allow_future)

    @property
    def as_of_date(self) -> dt.date:
        if not self.as_of:
            return dt.date.today()
        try:
            return dt.date.fromisoformat(self.as_of)
        except ValueError:
            from pipelines.errors import UserFacingError

            raise UserFacingError(f"统计截止日期“{self.as_of}”不是有效日期，应写作 2026-10-31。") from None

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @property
    def inbox_path(self) -> Path:
        return Path(self.inbox)


def default_resources() -> dict:
    """Resources for `dagster dev`, from the environment (the CLI builds its own)."""
    import os

    home = str(default_home())
    return {
        "store": StoreResource(home=home, memory_limit=env_memory_limit()),
        "settings": RunSettings(
            home=home,
            inbox=os.environ.get("ONCEONLY_INBOX", str(Path(home) / "inbox")),
            as_of=os.environ.get("ONCEONLY_AS_OF", ""),
            allow_future=os.environ.get("ONCEONLY_ALLOW_FUTURE", "").strip().lower() in ("1", "true", "yes"),
        ),
    }
