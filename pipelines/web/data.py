"""How the portal reaches the store: the live version, read-only, open once and shared by every request.

A build writes a new version beside the live one and publishes it by replacing the ``store.duckdb`` link
(pipelines/versions.py); nothing writes the live version. So the portal keeps it open read-only — no file
lock is ever waited for, pages and downloads run side by side — and gives each request a cursor of its own
(own transaction and TEMP tables: report rendering prepares its as-of tables there). When the link names a
new version, new requests get it; the old one is closed when its last request is done. The portal's own
writes (audit, handouts, stewards' decisions) go to the home's database (pipelines/homedb.py).
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import versions
from pipelines.paths import store_path
from pipelines.publish.rendered import OpenConn, VersionFiles
from pipelines.store import Store, table_exists, worker_connection


class StoreUnavailable(Exception):
    """No store to show yet; ``str(exc)`` is for the clerk."""


def portal_memory_limit() -> str:
    """``$ONCEONLY_PORTAL_MEMORY_LIMIT``, else a quarter of the machine's memory: a build runs beside the portal
    and takes DuckDB's default share of it."""
    limit = os.environ.get("ONCEONLY_PORTAL_MEMORY_LIMIT")
    if limit:
        return limit
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1, total // 4 // 2**30)}GB"


class _Open:
    """One open version and the requests using it."""

    def __init__(self, real: str, conn: duckdb.DuckDBPyConnection, version: versions.Version | None):
        self.real, self.conn, self.version = real, conn, version
        self.users = 0
        self.retired = False
        # a published version never changes: what it holds is asked once, not on every page (≈ 2 ms a question)
        self.tables = frozenset(f"{s}.{t}" for s, t in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall())

    def close_if_idle(self) -> None:
        if self.retired and self.users == 0:
            self.conn.close()


@dataclass(frozen=True)
class Notice:
    """What every page says about the data it shows."""
    version: str | None
    built_at: str | None
    as_of: str | None
    building: bool
    # written by an onceonly from before the marts (2026-12-06): the portal reads marts only, so it shows no dates
    earlier: bool = False

    @property
    def text(self) -> str | None:
        if self.earlier:
            return (f"当前数据版本 {self.version or ''} 由较早版本的 onceonly 写成，门户无法读取其统计截止日期和辖区。"
                    "请管理员运行一次 onceonly run 生成新的数据版本。")
        if not self.building:
            return None
        shown = (self.built_at or "")[:16]
        return f"正在更新，当前显示 {shown} 时的数据（数据版本 {self.version}）。更新完成后自动切换，无需等待。" \
            if shown else "正在更新数据，当前显示的是上一版本的数据。"


class StoreGate:
    def __init__(self, home: Path):
        self.home = Path(home)
        self.link = store_path(self.home)
        self._lock = threading.Lock()
        self._open: _Open | None = None
        self._choices: dict[tuple, tuple[list[Area], list[str]]] = {}
        self._building: tuple[float, dict | None] = (0.0, None)
        self._request = threading.local()
        # files made at once (XLSX and HTML are CPU work that competes with pages): one per core
        self.render_slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))

    def _acquire(self) -> _Open:
        try:
            real = os.path.realpath(self.link, strict=True)
        except OSError:
            raise StoreUnavailable("数据库尚未建立" + ("，第一次数据处理正在进行，请稍后刷新页面。" if self.building()
                                                 else "。请管理员先运行 onceonly run（演示：make demo）。")) from None
        with self._lock:
            current = self._open
            if current is None or current.real != real:
                # default configuration: a command in the same process (add_user, audit) opening the file gets
                # this same database instance; DuckDB refuses a second one with other settings
                conn = Store(real).open(read_only=True, macros=True)
                conn.execute(f"SET memory_limit = '{portal_memory_limit()}'")
                opened = _Open(real, conn, versions.live(self.home))
                if current is not None:
                    current.retired = True
                    current.close_if_idle()
                self._open = current = opened
            current.users += 1
            return current

    def _release(self, used: _Open) -> None:
        with self._lock:
            used.users -= 1
            used.close_if_idle()

    @contextlib.contextmanager
    def read(self, macros: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the live version for one request (read-only; its own TEMP tables)."""
        used = self._acquire()
        try:
            with self._cursor(used, macros) as cursor:
                yield cursor
        finally:
            self._release(used)

    @contextlib.contextmanager
    def _cursor(self, used: _Open, macros: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            cursor = worker_connection(used.conn, macros=macros)
        outer = getattr(self._request, "tables", None)
        self._request.tables = used.tables
        try:
            yield cursor
        finally:
            self._request.tables = outer
            cursor.close()

    @contextlib.contextmanager
    def files(self) -> Iterator[tuple[VersionFiles, str | None, OpenConn]]:
        """(the live version's files, its id, a way to open a cursor on it) for one download: a file missing
        from the version's folder is made from that same version, even if another is published meanwhile."""
        used = self._acquire()
        try:
            if used.version is not None:
                folder = Path(used.real).parent
            else:   # a store from before versions: its files are kept per state of the file
                st = os.stat(used.real)
                folder = self.home / "portal-files" / f"{st.st_mtime_ns}-{st.st_size}"
            yield (VersionFiles(folder, self.render_slots), used.version.id if used.version else None,
                   lambda: self._cursor(used, True))
        finally:
            self._release(used)

    def tables(self) -> frozenset[str]:
        """What the version this thread's request reads holds (``schema.name``; inside :meth:`read`)."""
        return self._request.tables

    def has(self, qualified: str) -> bool:
        return qualified in self.tables()

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.retired = True
                self._open.close_if_idle()
                self._open = None

    def _live(self) -> _Open | None:
        with contextlib.suppress(StoreUnavailable):
            used = self._acquire()
            self._release(used)
            return used
        return None

    def version(self) -> versions.Version | None:
        """The version the next request reads (its record: built when, from which batches)."""
        used = self._live()
        return used.version if used else None

    def building(self) -> dict | None:
        """Whether a build runs now (asked at most once a second: pages ask on every request)."""
        at, value = self._building
        if time.monotonic() - at > 1.0:
            value = versions.building(self.home)
            self._building = (time.monotonic(), value)
        return value

    def notice(self) -> Notice:
        used = self._live()
        v = used.version if used else None
        return Notice(v.id if v else None, v.built_at if v else None, v.as_of if v else None,
                      self.building() is not None, used is not None and "marts.portal_areas" not in used.tables)

    def choices(self, level: str, code: str) -> tuple[list["Area"], list[str]]:
        """(areas under a user's jurisdiction, as-of dates), cached per version (a version never changes), so a
        request that is refused never needs a store cursor."""
        real = os.path.realpath(self.link)
        key = (real, level, code)
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
    """The jurisdictions under a user's own (theirs first); empty when the grids no longer know it, or the version
    was written before the marts (:attr:`Notice.text` says so)."""
    if not table_exists(conn, "marts.portal_areas"):
        return []
    if level == "grid":     # marts.grids is small: one row per microgrid
        rows = conn.execute("SELECT grid_code, min(grid_name) FROM marts.grids WHERE grid_code = ? GROUP BY grid_code",
                            [code]).fetchall()
        return [Area("grid", c, n) for c, n in rows]
    if level == "community":
        rows = conn.execute("SELECT code, name FROM marts.portal_areas WHERE level = 'community' AND code = ? "
                            "ORDER BY 1", [code]).fetchall()
        return [Area("community", c, n) for c, n in rows]
    street = conn.execute("SELECT code, name FROM marts.portal_areas WHERE level = 'street' AND code = ? ORDER BY 1",
                          [code]).fetchall()
    if not street:
        return []
    comms = conn.execute("SELECT code, name FROM marts.portal_areas WHERE level = 'community' AND street_code = ? "
                         "ORDER BY 1", [code]).fetchall()
    return [Area("street", street[0][0], street[0][1])] + [Area("community", c, n) for c, n in comms]


def as_of_dates(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Dates the store has statuses for, newest first (reports and extracts can only use these)."""
    if not table_exists(conn, "marts.portal_dates"):
        return []
    return [r[0].isoformat() for r in conn.execute("SELECT as_of FROM marts.portal_dates ORDER BY 1 DESC").fetchall()]
