"""The follow-up loop's tasks for one as-of date D: who grid workers should visit, whom the police should
check for deregistration, which assistance payments civil affairs should check — each a task with a life.

``build_tasks`` appends the build's events to the ledger ``core.task_log`` (opened / closed, citing the
closing record) and its per-grid snapshot to ``core.grid_history`` — both only ever appended to — then
writes ``marts.tasks`` (every task known on D), ``marts.verification_tasks`` (the contract's extract) and
``marts.grid_series`` (the history's newest snapshot per as-of). The rules are in ``sql/marts/tasks.sql``.
(``marts.deregistration_feedback``, the deregister tasks' extract, is a person mart: pipelines/marts/__init__.py.)

A build records events only when D is not before the newest as-of already in the ledger: the ledger moves
forward. Building an earlier date (a past month re-rendered) computes what a build on that date would have
written, without rewriting the history later builds found, so a past date reproduces its outputs.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.store import Store, table_exists

KINDS = ("verify", "deregister", "assistance")
TASK_FILES = ("marts/task_log.sql", "marts/tasks.sql", "marts/verification_tasks.sql")

__all__ = ["KINDS", "build_tasks", "overdue_days", "task_history"]


def overdue_days() -> dict[str, int]:
    """Days after opening when an open task of each kind is 逾期 (reports/standards.yaml)."""
    from pipelines.reports.families import standards

    days = standards()["task_overdue_days"]
    missing = [k for k in KINDS if k not in days]
    if missing or any(int(days[k]) < 0 for k in KINDS):
        raise ValueError(f"reports/standards.yaml task_overdue_days 须为每类任务给出非负天数：{days}")
    return {k: int(days[k]) for k in KINDS}


def newest_as_of(conn: duckdb.DuckDBPyConnection) -> dt.date | None:
    if not table_exists(conn, "core.task_log"):
        return None
    return conn.execute("SELECT max(as_of) FROM core.task_log").fetchall()[0][0]


def build_tasks(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date, record: bool = False,
                built_at: dt.datetime | None = None) -> bool:
    """The task marts for ``as_of`` (core.person_status and marts.assistance_check must describe it).

    ``record``: this is a build (``onceonly run``): append its grid snapshot, and its task events when
    ``as_of`` is not before the ledger's newest as-of. Returns whether task events were recorded."""
    newest = newest_as_of(conn)
    record_events = record and (newest is None or as_of >= newest)
    days = overdue_days()
    variables = {"as_of": as_of, "record_events": record_events,
                 "built_at": (built_at or dt.datetime.now()).isoformat(sep=" "),
                 **{f"overdue_{k}": v for k, v in days.items()}}
    for relative in TASK_FILES:
        Store.run_sql(conn, relative, **variables)
        variables = {}
    if record:
        Store.run_sql(conn, "marts/grid_history.sql")
    Store.run_sql(conn, "marts/grid_series.sql")
    return record_events


def task_history(conn: duckdb.DuckDBPyConnection, task_id: str) -> str:
    """A task's life as a clerk reads it (``onceonly tasks show``): every event the ledger holds, oldest first."""
    if not table_exists(conn, "core.task_log"):
        raise LookupError("库中还没有核查任务：请先运行 onceonly run。")
    events = conn.execute("""
        SELECT t.as_of, t.event, task_kind_cn(t.kind), t.person_key, p.name, t.house_code, h.std_address, t.basis, t.resolution,
               t.closing_detail, t.closing_date
        FROM core.task_log t
        LEFT JOIN core.persons p ON p.person_key = t.person_key
        LEFT JOIN core.houses h ON h.house_code = t.house_code
        WHERE t.task_id = ?
        ORDER BY t.as_of, t.built_at""", [task_id.strip().upper()]).fetchall()
    if not events:
        raise LookupError(f"没有编号为 {task_id} 的核查任务。")
    first = events[0]
    lines = [f"任务 {task_id.strip().upper()}（{first[2]}）：{first[4] or ''}（{first[3]}）"
             + (f"，房屋 {first[5]} {first[6] or ''}" if first[5] else "")]
    opened = None
    for as_of, event, _, _, _, _, _, basis, resolution, detail, closing_date in events:
        if event == "opened":
            opened = as_of
            lines.append(f"  {as_of} 开始：{basis or ''}")
        else:
            took = max(((closing_date or as_of) - opened).days, 0) if opened else None
            lines.append(f"  {as_of} 办结（{resolution}）：{detail or '无记录'}"
                         + (f"，用时 {took} 天" if took is not None else ""))
    return "\n".join(lines)
