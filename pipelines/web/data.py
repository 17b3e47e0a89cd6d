"""How the portal reaches the store: short connections, read-only unless a page must write.

DuckDB allows one writer process, and within one process all connections to a file must share
one configuration (a read-only and a read-write connection cannot be open at the same time).
So the server's threads share a readers-writer lock: pages open the store read-only together;
a download, fix or upload (which appends to ``audit.extracts`` / ``quality.corrections``) waits
for them, opens it read-write alone, and closes it at once. No connection outlives a request,
so ``onceonly run`` can take the store between requests (while it runs, pages answer 503).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.paths import store_path
from pipelines.store import Store, table_exists


class StoreUnavailable(Exception):
    """The store is missing or held by another process; ``str(exc)`` is for the clerk."""


class _RWLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            # writers first: a stream of page views must not starve a download
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class StoreGate:
    def __init__(self, home: Path):
        self.path = store_path(home)
        self.store = Store(self.path)
        self._lock = _RWLock()
        self._choices: dict[tuple, tuple[list[Area], list[str]]] = {}

    @contextlib.contextmanager
    def _open(self, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self.path.exists():
            raise StoreUnavailable("数据库尚未建立。请管理员先运行 onceonly run（演示：make demo）。")
        with contextlib.ExitStack() as stack:
            try:
                # Page queries use no macros: loading them would cost more than most page queries.
                conn = stack.enter_context(self.store.connect(read_only=read_only, macros=not read_only))
            except (duckdb.IOException, duckdb.ConnectionException):
                raise StoreUnavailable("数据正在更新（后台正在运行数据处理），请稍后刷新页面。") from None
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock.shared(), self._open(read_only=True) as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock.exclusive(), self._open(read_only=False) as conn:
            yield conn


    def choices(self, level: str, code: str) -> tuple[list["Area"], list[str]]:
        """(areas under a user's jurisdiction, as-of dates), cached until the store file changes, so a
        request that is refused never needs a store connection."""
        stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None
                      for p in (self.path, self.path.with_name(self.path.name + ".wal")))
        key = (stamp, level, code)
        hit = self._choices.get(key)
        if hit is None:
            with self.read() as conn:
                hit = (areas(conn, level, code), as_of_dates(conn))
            if len(self._choices) > 512:
                self._choices.clear()
            self._choices[key] = hit
        return hit


@dataclass(frozen=True)
class Area:
    """One jurisdiction a user may choose: their street, or a community in it; a grid worker's grid."""
    level: str      # street | community | grid
    code: str
    name: str

    @property
    def label(self) -> str:
        return self.name + ("（全街道）" if self.level == "street" else "")


def areas(conn: duckdb.DuckDBPyConnection, level: str, code: str) -> list[Area]:
    """The jurisdictions under a user's own (theirs first); empty when the grids no longer know it."""
    if not table_exists(conn, "core.grids"):
        return []
    if level == "grid":
        rows = conn.execute("SELECT grid_code, min(grid_name) FROM core.grids WHERE grid_code = ? GROUP BY grid_code",
                            [code]).fetchall()
        return [Area("grid", c, n) for c, n in rows]
    if level == "community":
        rows = conn.execute("SELECT DISTINCT community_code, community_name FROM core.grids "
                            "WHERE community_code = ? ORDER BY 1", [code]).fetchall()
        return [Area("community", c, n) for c, n in rows]
    street = conn.execute("SELECT DISTINCT street_code, street_name FROM core.grids WHERE street_code = ? "
                          "ORDER BY 1", [code]).fetchall()
    if not street:
        return []
    comms = conn.execute("SELECT DISTINCT community_code, community_name FROM core.grids WHERE street_code = ? "
                         "ORDER BY 1", [code]).fetchall()
    return [Area("street", street[0][0], street[0][1])] + [Area("community", c, n) for c, n in comms]


def as_of_dates(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Dates the store has statuses for, newest first (reports and extracts can only use these)."""
    if not table_exists(conn, "core.person_status"):
        return []
    return [r[0].isoformat() for r in conn.execute(
        "SELECT DISTINCT as_of FROM core.person_status ORDER BY 1 DESC").fetchall()]
