"""What a run shows while it works: its stage in Chinese, files and rows read, time spent and left.

A run has six stages (STAGES). `onceonly run` reports them as Dagster starts each step (``watching``:
every event the in-process run stores passes by), the ingest asset reports each file read
(``active().file_done``), and when the run ends each stage's seconds are kept beside the store
(``stage_times.json``) so that the next run can say how long it has left.

On a terminal the display is a rich live table (one line per stage, a bar, the time left); anywhere
else (a log file, cron, CI) it is one plain line per stage as the stage ends, so nothing floods a log.
A district's run in its own process writes its state to a small JSON file instead (``StateFile``),
which `onceonly run --by-district` reads to show every district at once (``DistrictsDisplay``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# (key, what a user is told): the order a run goes through them.
STAGES = (
    ("reading", "读取文件"),
    ("staging", "标准化"),
    ("linking", "人员合并"),
    ("status", "状态判定"),
    ("quality", "质量校验"),
    ("reports", "生成报表"),
)
TITLES = dict(STAGES)
ORDER = [key for key, _ in STAGES]
# Dagster steps (op names) -> stage. A check step belongs to its asset's stage; a step never moves
# the run back to an earlier stage (a check that waits for later tables runs in a later one).
STEP_STAGES = {
    "raw__batches": "reading",
    "staging__tables": "staging",
    "core__grids": "linking", "core__houses": "linking", "core__address_matches": "linking",
    "core__person_records": "linking", "core__persons": "linking",
    "core__evidence": "status", "core__person_status": "status", "marts__contract_extracts": "status",
    "quality__steward_queue": "quality",
    "marts__extract_tables": "status",
    "marts__run_report": "reports", "department_reports": "reports", "marts__portal_marts": "reports", "reports__portal_files": "reports",
    "store__version": "reports",
}
# Beside the store: each stage's seconds on the last run that finished, and what it read.
STAGE_TIMES = "stage_times.json"


def stage_of_step(step_key: str) -> str | None:
    if step_key in STEP_STAGES:
        return STEP_STAGES[step_key]
    owner = max((k for k in STEP_STAGES if step_key.startswith(k + "_")), key=len, default=None)
    return STEP_STAGES[owner] if owner else None


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@dataclass
class Estimate:
    """The last finished run's stage seconds and how many rows the store then held."""
    seconds: dict[str, float] = field(default_factory=dict)
    rows: int = 0            # rows read from every batch the store held at its end
    read_bytes: int = 0      # bytes of the files its reading stage read

    @classmethod
    def load(cls, path: Path | None) -> "Estimate | None":
        if path is None or not path.exists():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls({k: float(v) for k, v in doc["seconds"].items()}, int(doc.get("rows", 0)),
                       int(doc.get("read_bytes", 0)))
        except (ValueError, KeyError, TypeError):
            return None


class Progress:
    """A run's progress: the stage it is in, the files and rows read. Shows nothing itself
    (TerminalProgress and StateFile do); keeps the stage times for the next run's estimate."""

    def __init__(self, times_path: Path | None = None, stages=STAGES):
        self.stages = stages
        self.order = [k for k, _ in stages]
        self.titles = dict(stages)
        self.times_path = times_path
        self.estimate = Estimate.load(times_path)
        self.started = time.monotonic()
        self.current: str | None = None
        self.stage_started: dict[str, float] = {}
        self.stage_seconds: dict[str, float] = {}
        self.files_total = 0
        self.bytes_total = 0
        self.files_done = 0
        self.bytes_done = 0
        self.rows_read = 0
        self.new_bytes = 0
        self.finished: bool | None = None
        self._lock = threading.Lock()

    # --- what the run reports ---------------------------------------------------------------
    def stage(self, key: str) -> None:
        """Enter stage ``key`` (ignored when the run is already past it)."""
        with self._lock:
            if key not in self.order or (self.current and self.order.index(key) <= self.order.index(self.current)):
                return
            now = time.monotonic()
            if self.current:
                self._close(self.current, now)
            self.current = key
            self.stage_started[key] = now
        self.changed()

    def files_found(self, files: int, nbytes: int) -> None:
        with self._lock:
            self.files_total, self.bytes_total = files, nbytes
        self.changed()

    def file_done(self, name: str, nbytes: int, rows: int) -> None:
        with self._lock:
            self.files_done += 1
            self.bytes_done += nbytes
            self.rows_read += rows
            if rows:
                self.new_bytes += nbytes
        self.changed()

    def finish(self, success: bool) -> None:
        with self._lock:
            if self.current:
                self._close(self.current, time.monotonic())
            self.finished = success
        if success and self.times_path is not None and self.stage_seconds:
            rows = (self.estimate.rows if self.estimate else 0) + self.rows_read
            try:
                self.times_path.write_text(json.dumps(
                    {"seconds": {k: round(v, 2) for k, v in self.stage_seconds.items()}, "rows": rows,
                     "read_bytes": self.new_bytes, "finished": dt.datetime.now().isoformat(timespec="seconds")},
                    ensure_ascii=False), encoding="utf-8")
            except OSError:
                pass
        self.changed()

    def _close(self, key: str, now: float) -> None:
        self.stage_seconds[key] = self.stage_seconds.get(key, 0.0) + now - self.stage_started[key]
        self.stage_closed(key)

    # --- what it shows (subclasses) ---------------------------------------------------------
    def changed(self) -> None:
        pass

    def stage_closed(self, key: str) -> None:
        pass

    # --- time -------------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stage_elapsed(self, key: str) -> float | None:
        if key in self.stage_seconds and key != self.current:
            return self.stage_seconds[key]
        if key == self.current:
            return time.monotonic() - self.stage_started[key]
        return None

    def expected(self, key: str) -> float | None:
        """How long stage ``key`` should take: the last run's time, scaled by the rows the store now holds
        (reading: by the bytes read so far in this run, at this run's own pace)."""
        if key == "reading" and self.bytes_total and self.bytes_done and key == self.current:
            spent = time.monotonic() - self.stage_started[key]
            return spent * self.bytes_total / self.bytes_done
        if not self.estimate or key not in self.estimate.seconds:
            return None
        seconds = self.estimate.seconds[key]
        if key == "reading":
            if self.estimate.read_bytes and self.bytes_total:
                return seconds * min(1.0, self.bytes_total / self.estimate.read_bytes)
            return seconds
        if self.estimate.rows and self.current and self.order.index(self.current) > 0:
            return seconds * (self.estimate.rows + self.rows_read) / self.estimate.rows
        return seconds

    def remaining(self) -> float | None:
        """Seconds left, or None when there is nothing to go by (a first run, before the first file)."""
        if self.finished is not None:
            return 0.0
        left = 0.0
        start = self.order.index(self.current) if self.current else 0
        for key in self.order[start:]:
            want = self.expected(key)
            if want is None:
                return None
            if key == self.current:
                left += max(want - (time.monotonic() - self.stage_started[key]), 0.0)
            else:
                left += want
        return left

    def stage_note(self, key: str) -> str:
        """The counts a stage shows beside its name."""
        if key == "reading" and (self.files_total or self.files_done):
            return f"{self.files_done}/{self.files_total} 个文件，已读 {self.rows_read:,} 行"
        return ""


def _own_stream(stream: IO) -> IO | None:
    """A second handle on ``stream``'s file descriptor. Dagster captures each step's output by pointing
    descriptors 1 and 2 at its compute-log files while the step runs: the display, written from its own
    thread at any moment, would land there; a duplicate descriptor still reaches the terminal."""
    import os

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    stream.flush()
    return os.fdopen(os.dup(fd), "w", encoding=getattr(stream, "encoding", None) or "utf-8", buffering=1)


class _Display:
    """A live rich display on ``stream`` when it is a terminal, refreshed from rich's own thread by calling
    ``_render``; ``stream`` becomes a second handle on the terminal (_own_stream) while it is shown."""

    refresh_per_second = 4

    def __init__(self, stream: IO | None, interactive: bool | None):
        self.stream = stream or sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._live = None
        self._own = None

    def __enter__(self):
        self._own = _own_stream(self.stream)
        if self._own is not None:
            self.stream = self._own
        if self.interactive:
            from rich.console import Console
            from rich.live import Live

            # Nothing else writes to the terminal meanwhile (Dagster's console log is off): no redirection,
            # which would route every library's stray print through the display's lock.
            self._live = Live(console=Console(file=self.stream, highlight=False),
                              refresh_per_second=self.refresh_per_second, transient=False,
                              get_renderable=self._render, redirect_stdout=False, redirect_stderr=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(*exc)
            self._live = None
        if self._own is not None:
            self._own.close()
            self.stream, self._own = sys.stdout, None

    def _render(self):
        raise NotImplementedError


class TerminalProgress(_Display, Progress):
    """A live rich display on a terminal; one line per finished stage anywhere else."""

    def __init__(self, times_path: Path | None = None, stream: IO | None = None, title: str = "",
                 interactive: bool | None = None, stages=STAGES):
        Progress.__init__(self, times_path, stages)
        _Display.__init__(self, stream, interactive)
        self.title = title

    def say(self, line: str) -> None:
        """A line of the caller's own (the bench's figures), above the live display or in its place."""
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def stage_closed(self, key: str) -> None:
        if self.interactive:
            return
        n = self.order.index(key) + 1
        note = self.stage_note(key)
        print(f"{dt.datetime.now():%H:%M:%S} [{n}/{len(self.order)}] {self.titles[key]} 完成，用时 "
              f"{_clock(self.stage_seconds[key])}" + (f"（{note}）" if note else ""), file=self.stream, flush=True)

    def _render(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1))
        for _ in range(5):
            table.add_column()
        for key in self.order:
            title = self.titles[key]
            spent = self.stage_elapsed(key)
            if key == self.current and self.finished is None:
                want = self.expected(key)
                if key == "reading" and self.bytes_total:
                    bar = ProgressBar(total=self.bytes_total, completed=self.bytes_done, width=30)
                elif want:
                    bar = ProgressBar(total=want, completed=min(spent, want * 0.99), width=30)
                else:
                    bar = ProgressBar(total=None, width=30, pulse=True, animation_time=time.monotonic())
                timing = _clock(spent) + (f" / 约 {_clock(want)}" if want else "")
                table.add_row(Text("▶", style="bold cyan"), Text(title, style="bold"), bar,
                              Text(self.stage_note(key)), Text(timing))
            elif spent is not None:
                table.add_row(Text("✓", style="green"), Text(title), "", Text(self.stage_note(key), style="dim"),
                              Text(_clock(spent), style="dim"))
            else:
                table.add_row(Text("·", style="dim"), Text(title, style="dim"), "", "", "")
        left = self.remaining()
        if self.finished is None:
            tail = f"已用 {_clock(self.elapsed())}，预计剩余 "
            if left is not None:
                tail += f"约 {_clock(left)}"
            else:
                want = self.expected(self.current) if self.current else None
                here = (f"本阶段约 {_clock(max(want - self.stage_elapsed(self.current), 0.0))}，" if want else "")
                tail += f"{here}之后的阶段：首次运行，无上次用时可参考"
        else:
            tail = f"{'完成' if self.finished else '失败'}，共用时 {_clock(self.elapsed())}"
        parts = [Text(self.title, style="bold")] if self.title else []
        return Group(*parts, table, Text(tail, style="bold"))


class StateFile(Progress):
    """A run in another process (a district's): its state written to ``path`` as JSON (at most twice
    a second, and at every stage's end), for the process that started it to show."""

    def __init__(self, path: Path, times_path: Path | None = None):
        super().__init__(times_path)
        self.path = Path(path)
        self._written = 0.0

    def changed(self) -> None:
        now = time.monotonic()
        if self.finished is None and now - self._written < 0.5:
            return
        self._written = now
        self.write()

    def stage_closed(self, key: str) -> None:
        self._written = 0.0

    def write(self) -> None:
        state = {"stage": self.current, "elapsed": round(self.elapsed(), 1), "remaining": self.remaining(),
                 "note": self.stage_note(self.current) if self.current else "", "finished": self.finished}
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass


class DistrictsDisplay(_Display):
    """`onceonly run --by-district`: every district's line (its stage and time left, read from the
    StateFile its process writes), live on a terminal; elsewhere one line per district as it ends."""

    refresh_per_second = 2

    def __init__(self, codes: list[str], state_path, stream: IO | None = None, interactive: bool | None = None,
                 estimates: dict[str, float] | None = None, parallel: int = 1):
        super().__init__(stream, interactive)
        self.codes = codes
        self.parallel = max(1, parallel)
        self.state_path = state_path          # code -> Path of its StateFile
        self.estimates = estimates or {}      # code -> seconds its last finished run took
        self.done: dict[str, str] = {}        # code -> its result line
        self.started = time.monotonic()

    def district_done(self, code: str, line: str) -> None:
        self.done[code] = line
        if not self.interactive:
            print(line, file=self.stream, flush=True)

    def _state(self, code: str) -> dict:
        try:
            return json.loads(Path(self.state_path(code)).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _render(self):
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        for _ in range(4):
            table.add_column()
        running: list[float | None] = []
        waiting: list[float | None] = []
        for code in self.codes:
            if code in self.done:
                table.add_row(Text(code), Text(self.done[code].strip(), style="dim"), "", "")
                continue
            state = self._state(code)
            stage = state.get("stage")
            if stage is None:
                table.add_row(Text(code, style="dim"), Text("等待中", style="dim"), "", "")
                waiting.append(self.estimates.get(code))
                continue
            n = ORDER.index(stage) + 1
            left = state.get("remaining")
            running.append(left)
            table.add_row(Text(code, style="bold"), Text(f"[{n}/{len(ORDER)}] {TITLES[stage]}"),
                          Text(state.get("note") or ""),
                          Text(f"已用 {_clock(state.get('elapsed'))}，剩余 "
                               + (f"约 {_clock(left)}" if left is not None else "未知")))
        tail = f"已用 {_clock(time.monotonic() - self.started)}"
        if len(self.done) < len(self.codes):
            wall = _wall_clock(running, waiting, self.parallel)
            tail += "，预计剩余 " + (f"约 {_clock(wall)}" if wall is not None else "未知（有区县首次运行）")
        table.add_row("", Text(tail, style="bold"), "", "")
        return table


def _wall_clock(running: list[float | None], waiting: list[float | None], parallel: int) -> float | None:
    """When the last district should end: those running end when they say, each waiting one starts
    in the first slot that frees (``parallel`` slots)."""
    if any(v is None for v in running + waiting):
        return None
    slots = sorted(running + [0.0] * max(parallel - len(running), 0))
    for want in waiting:
        slots[0] += want
        slots.sort()
    return max(slots, default=0.0)


def last_seconds(times: dict[str, Path]) -> dict[str, float]:
    """Each run's whole time on its last finished run (name -> its stage times file), where there is one."""
    out = {}
    for name, path in times.items():
        est = Estimate.load(path)
        if est and est.seconds:
            out[name] = sum(est.seconds.values())
    return out


# --- the run in progress, for the steps that report to it -----------------------------------

_active: Progress | None = None


def active() -> Progress | None:
    """The progress of the run going on in this process, if any (the ingest asset reports files to it)."""
    return _active


@contextlib.contextmanager
def watching(instance, progress: Progress):
    """While the run goes on: ``progress`` is the active one, and each step Dagster starts moves it to
    that step's stage. Every event of an in-process run goes through ``instance.handle_new_event``
    (to be stored): the one place to see a step start without reading the event log back."""
    from dagster import DagsterEventType

    global _active
    original = instance.handle_new_event

    def handle(event, *args, **kwargs):
        result = original(event, *args, **kwargs)
        dagster_event = getattr(event, "dagster_event", None)
        if dagster_event is not None and dagster_event.event_type == DagsterEventType.STEP_START:
            stage = stage_of_step(dagster_event.step_key or "")
            if stage:
                progress.stage(stage)
        return result

    instance.handle_new_event = handle
    previous, _active = _active, progress
    try:
        yield progress
    finally:
        _active = previous
        try:
            del instance.handle_new_event      # the class's own method again
        except AttributeError:
            pass
