"""Files made once per store version and handed out many times: a report's files for a jurisdiction, a department's
extract for a jurisdiction.

A published version never changes, so a file made from it is right for as long as the version is live: everyone of
a jurisdiction who asks for the same report (or a department's users for the same extract) gets the same bytes,
made once. The build makes every report's files for every street and community (:func:`prerender`, asset
reports/portal_files: what every user of a jurisdiction downloads — the report lists — is ready before the
version goes live); the portal makes the rest on first request. They live in the version's folder
(``versions/<id>/files/``) and go when the version is pruned. Each handout is still recorded, per user, by the
caller (pipelines/publish/audit.py): making a file is not handing it out.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import duckdb

from pipelines.publish.grants import Scope
from pipelines.publish.masking import Masking

FILES = "files"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Made:
    """One file ready to hand out, and what its handout record says."""
    path: Path
    name: str           # report-name, report-name-<list key>, or extract name
    fmt: str
    row_count: int
    columns: list[str]
    sha256: str
    scope: str          # Scope.key: 全库 / street:<code> / community:<code>


OpenConn = Callable[[], contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]]


class NotMade(Exception):
    """The file is not made yet and the caller asked not to make it (``make=False``)."""


class VersionFiles:
    """The files of one store version (``<version dir>/files``). ``slots`` bounds how many are being made at once
    (making one is CPU work — XLSX, HTML — that competes with answering pages)."""

    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, version_dir: Path, slots: threading.Semaphore | None = None):
        self.root = Path(version_dir) / FILES
        self.slots = slots

    def report(self, open_conn: OpenConn, name: str, as_of: dt.date, scope: Scope, shown: Masking,
               make: bool = True, previous: VersionFiles | None = None) -> list[Made]:
        """Every file of report ``name`` for ``scope`` with values shown as ``shown`` (the department's report
        masking: departments that show alike share the files), HTML, XLSX, then its person lists, made if need be
        (else, with ``make=False``, :class:`NotMade`). ``previous``: the last build's version files, whose files of
        the same report are kept when what they print is unchanged (a build: pipelines/reports/kept.py)."""
        from pipelines.reports import report_files
        from pipelines.reports.kept import Kept

        relative = Path("reports") / as_of.isoformat() / _masking_key(shown) / _safe(scope.key) / name
        folder = self.root / relative

        def make_files(conn, out: Path) -> list[dict]:
            kept = None if previous is None else Kept(conn, previous.root / relative, relative.as_posix())
            return report_files(conn, name, out_dir=out, as_of=as_of, scope=scope, shown=shown, kept=kept)
        return self._get(folder, open_conn, make_files if make else None, scope.key)

    def extract(self, open_conn: OpenConn, name: str, fmt: str, *, dept: str | None, user: str, scope: str | None,
                as_of: dt.date, make: bool = True) -> Made:
        """Extract ``name`` as ``fmt`` for ``dept`` over ``scope`` (a code), made if need be; the grant is checked
        for ``user`` when it is made (the caller checks it on every request)."""
        from pipelines.publish.extracts import SUFFIX, extract_file

        folder = self.root / "extracts" / as_of.isoformat() / _safe(dept or "本库") / _safe(scope or "全库") / f"{name}.{fmt}"

        def make_file(conn, out: Path) -> list[dict]:
            r = extract_file(conn, name, fmt=fmt, out=out / f"{name}.{SUFFIX[fmt]}", dept=dept, scope=scope,
                             as_of=as_of, user=user)
            return [dict(path=r.path, name=name, fmt=fmt, row_count=r.rows, columns=list(r.columns),
                         sha256=r.sha256, scope=r.scope)]
        return self._get(folder, open_conn, make_file if make else None, None)[0]

    def _get(self, folder: Path, open_conn: OpenConn, make, scope_key: str | None) -> list[Made]:
        made = _read(folder)
        if made is not None:
            return made
        if make is None:
            raise NotMade(str(folder))
        with self._lock(folder), (self.slots or contextlib.nullcontext()):
            made = _read(folder)            # made by another request while this one waited
            if made is not None:
                return made
            staging = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            try:
                with open_conn() as conn:
                    entries = make(conn, staging)
                manifest = [{"file": Path(e["path"]).name, "name": e["name"], "fmt": e["fmt"],
                             "row_count": int(e["row_count"]), "columns": list(e["columns"]), "sha256": e["sha256"],
                             "scope": e.get("scope") or scope_key} for e in entries]
                (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
                try:
                    os.rename(staging, folder)      # whole or not at all; another process may have been first
                except OSError:
                    if _read(folder) is None:
                        raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            return _read(folder)

    @classmethod
    @contextlib.contextmanager
    def _lock(cls, folder: Path) -> Iterator[None]:
        with cls._locks_guard:
            lock = cls._locks.setdefault(str(folder), threading.Lock())
        with lock:
            yield


def _masking_key(shown: Masking) -> str:
    """A folder name for a masking: one part per class of value, in the dataclass's order."""
    return _safe("_".join(f"{f.name}-{getattr(shown, f.name)}" for f in fields(shown)))


def _safe(part: str) -> str:
    """A folder name from a scope key or department name (registry and grid codes only, but never a path)."""
    return part.replace("/", "_").replace(":", "-").replace("..", "_")


def _read(folder: Path) -> list[Made] | None:
    try:
        entries = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [Made(folder / e["file"], e["name"], e["fmt"], e["row_count"], e["columns"], e["sha256"], e["scope"])
            for e in entries]


# Formats of the department extracts made with each version; XLSX (seconds per file for a street's person-sources)
# is made on first request.
PRERENDERED_FORMATS = ("csv", "parquet")


def prerender(conn: duckdb.DuckDBPyConnection, version_dir: Path, as_of: dt.date, *, limit: int,
              previous_dir: Path | None = None) -> dict[str, int]:
    """Make what the users of every jurisdiction download: every report's files for every street, then every
    community (at most ``limit`` jurisdictions; the portal makes the others on first request), and each department's
    extracts in PRERENDERED_FORMATS for the jurisdictions it may choose. Reports are made once per masking of the
    departments granted them. One preparation serves all reports
    (grants.narrow); extracts read the version's extract tables. A report whose content for a jurisdiction is what
    it was at the last build keeps that build's files (``previous_dir``: its version folder; pipelines/reports/kept.py).
    Returns what was made."""
    from pipelines.publish import load_registry
    from pipelines.publish.grants import ALLOWED_LEVELS, resolve_scope
    from pipelines.reports import TITLES

    files = VersionFiles(version_dir)
    # the files made are recorded for the next build to keep, with or without a last build to keep from
    previous = VersionFiles(version_dir if previous_dir is None else previous_dir)
    areas = conn.execute("SELECT level, code FROM marts.portal_areas ORDER BY level = 'community', code").fetchall()[:limit]

    @contextlib.contextmanager
    def same():
        yield conn
    reg = load_registry()
    # each report as every department granted it shows it (departments that show alike share the files)
    shown = {name: {_masking_key(m): m for m in [reg.report_masking(d.name) for d in reg.departments.values()
                                                 if name in d.reports]}
             for name in TITLES}
    made = {"jurisdictions": len(areas), "report_files": 0, "extract_files": 0}
    for _, code in areas:
        scope = resolve_scope(conn, None, code)
        for name in TITLES:
            for m in shown[name].values():
                made["report_files"] += len(files.report(same, name, as_of, scope, m, previous=previous))
    for dept in reg.departments.values():
        for name, grant in dept.extracts.items():
            user = grant.users[0] if grant.users else "onceonly"
            for level, code in areas:
                if level not in ALLOWED_LEVELS[dept.level]:     # a grid worker's: made on first request
                    continue
                for fmt in PRERENDERED_FORMATS:
                    files.extract(same, name, fmt, dept=dept.name, user=user, scope=code, as_of=as_of)
                    made["extract_files"] += 1
    return made
