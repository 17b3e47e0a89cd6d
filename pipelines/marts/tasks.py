"""The follow-up loop's tasks for one as-of date D: who grid workers should visit, whom the police should
check for deregistration, which assistance payments civil affairs should check — each a task with a life.

``build_tasks`` appends the build's events to the ledger ``core.task_log`` (opened / closed, citing the
closing record) and its per-grid snapshot to ``core.grid_history`` — both only ever appended to — then
writes ``marts.tasks`` (every task known on D), ``marts.verification_tasks`` and
``marts.deregistration_feedback`` (the contract's extracts). The rules are in ``sql/marts/tasks.sql``.

A build records events only when D is not before the newest as-of already in the ledger: the ledger moves
forward. Building an earlier date (a past month re-rendered) computes what a build on that date would have
written, without rewriting the history later builds found, so a past date reproduces its outputs.
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.store import Store, table_exists

KINDS = ("verify", "deregister", "assistance")
TASK_FILES = ("marts/task_log.sql", "marts/tasks.sql", "marts/verification_tasks.sql",
              "marts/deregistration_feedback.sql")

__all__ = ["KINDS", "build_tasks", "overdue_days"]


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
    return record_events
