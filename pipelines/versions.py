"""Store versions: a run builds beside the live store and publishes it in one atomic step.

Layout of a home::

    store.duckdb -> versions/000008/store.duckdb    the live version: a symbolic link, replaced atomically
    versions/000008/store.duckdb                    a version's store (checkpointed: no .wal beside it)
    versions/000008/version.json                    its record: state, base, times, as-of, batches, summary
    versions/000008/reports/<as-of>/                the reports the build rendered (copied to reports/ on publish)
    versions/000008/files/                          files the portal hands out, made once per version (publish/rendered.py)
    build.lock                                      held (flock) by the one build running; says which process
    reports/<as-of>/                                the live version's reports

A build (:func:`begin_build`) takes the lock, copies the live version's file into a new version folder (the run
is incremental: raw keeps every batch, quality.corrections every steward's decision) and the run writes only
there. When the graph's last asset has run (every blocking check passed), it marks the build ready; when the run
ends and its store is closed, :meth:`Build.finish` publishes it by replacing the ``store.duckdb`` link — one
``rename``, atomic on POSIX file systems — or, for a failed run, removes its file. A killed build publishes
nothing: its lock dies with it, and the next build clears its folder. Readers open the link read-only: an open
reader keeps the version it opened (its file stays readable even after the version is pruned), the next open
gets the new one. The last ``ONCEONLY_KEEP_VERSIONS`` (default 3) versions are kept for :func:`rollback`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.errors import UserFacingError
from pipelines.paths import store_path

VERSIONS = "versions"
STORE_FILE = "store.duckdb"
RECORD = "version.json"
LOCK = "build.lock"
DEFAULT_KEEP = 3
HISTORY = 30            # version records (without their files) kept for `onceonly runs`

BUILDING, READY, PUBLISHED, FAILED, ROLLED_BACK = "building", "ready", "published", "failed", "rolled_back"
STATE_CN = {BUILDING: "正在构建", READY: "已完成待发布", PUBLISHED: "已发布", FAILED: "失败（未发布）",
            ROLLED_BACK: "已回退（不再使用）"}


class VersionError(UserFacingError):
    """A build or rollback that cannot be done now; ``str(exc)`` says why, in Chinese."""


def keep_versions() -> int:
    """How many published versions keep their files: ``$ONCEONLY_KEEP_VERSIONS`` (at least 2: live + one to roll back to)."""
    raw = os.environ.get("ONCEONLY_KEEP_VERSIONS", "")
    try:
        return max(2, int(raw)) if raw else DEFAULT_KEEP
    except ValueError:
        raise VersionError(f"ONCEONLY_KEEP_VERSIONS 应为整数（至少 2），现为“{raw}”") from None


def _now() -> str:
    return dt.datetime.now().isoformat(sep=" ", timespec="seconds")


def _write_json(path: Path, data: dict) -> None:
    """Replace ``path`` atomically: a reader sees the old record or the new one, never half of either."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Version:
    """One version folder and its record."""
    dir: Path
    record: dict = field(default_factory=dict)
    live: bool = False

    @property
    def id(self) -> str:
        return self.dir.name

    @property
    def store(self) -> Path:
        return self.dir / STORE_FILE

    @property
    def state(self) -> str:
        return self.record.get("state", FAILED)

    @property
    def has_store(self) -> bool:
        return self.store.exists()

    @property
    def built_at(self) -> str | None:
        return self.record.get("built_at")

    @property
    def as_of(self) -> str | None:
        return self.record.get("as_of")

    def save(self) -> None:
        _write_json(self.dir / RECORD, self.record)

    def update(self, **changes) -> None:
        self.record.update(changes)
        self.save()


def versions_dir(home: Path) -> Path:
    return Path(home) / VERSIONS


def _read(d: Path) -> Version:
    try:
        record = json.loads((d / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {"state": FAILED, "error": "版本记录缺失或损坏"}
    return Version(d, record)


def live_id(home: Path) -> str | None:
    """The live version's id: where ``store.duckdb`` points (None: no version published yet, or a store
    from before versions, a plain file)."""
    link = store_path(Path(home))
    if not link.is_symlink():
        return None
    target = Path(os.readlink(link))
    return target.parent.name if target.parent.parent.name == VERSIONS else None


def live(home: Path) -> Version | None:
    vid = live_id(home)
    if vid is None:
        return None
    v = _read(versions_dir(home) / vid)
    v.live = True
    return v


def list_versions(home: Path) -> list[Version]:
    """Every version folder, newest first, the live one marked."""
    root = versions_dir(home)
    if not root.is_dir():
        return []
    current = live_id(home)
    out = []
    for d in sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: p.name,
                    reverse=True):
        v = _read(d)
        v.live = d.name == current
        out.append(v)
    return out


def _next_id(home: Path) -> str:
    root = versions_dir(home)
    ids = [int(p.name) for p in root.iterdir() if p.name.isdigit()] if root.is_dir() else []
    return f"{max(ids, default=0) + 1:06d}"


# --- the build lock ---------------------------------------------------------------------------

@contextlib.contextmanager
def _build_lock(home: Path, what: str) -> Iterator[None]:
    """Hold ``build.lock`` (one build or rollback at a time). The kernel releases it when the process dies,
    however it dies, so a killed build never leaves the home locked. A few quick retries: the portal probes the
    lock for an instant (:func:`building`)."""
    path = Path(home) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        for attempt in range(20):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if attempt == 19:
                    holder = _lock_holder(path)
                    raise VersionError(
                        "另一个运行正在更新数据" + (f"（进程号 {holder.get('pid')}，{holder.get('what', '')}，"
                                            f"开始于 {holder.get('since', '?')}）" if holder else "")
                        + "，请等它结束后再运行。门户在此期间照常显示当前版本的数据。") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": _now()}, ensure_ascii=False).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _lock_holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def building(home: Path) -> dict | None:
    """What holds the build lock now (``pid``, ``what``, ``since``), or None. Never blocks: the portal asks on pages."""
    path = Path(home) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return _lock_holder(path) or {"pid": None, "what": "构建", "since": None}
            raise
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# --- building -----------------------------------------------------------------------------------

def adopt_plain_store(home: Path) -> Version | None:
    """A store from before versions (``store.duckdb`` a plain file) becomes version 000001, in place: a hard link
    in the version folder, then the plain name replaced by a link to it (readers that have it open keep reading)."""
    home = Path(home)
    plain = store_path(home)
    if plain.is_symlink() or not plain.exists():
        return None
    wal = plain.with_name(plain.name + ".wal")
    if wal.exists():
        # a crashed writer's log: opening the store for writing once replays it into the file
        from pipelines.store import Store

        with Store(plain).connect(macros=False) as conn:
            conn.execute("CHECKPOINT")
    vid = _next_id(home)
    v = Version(versions_dir(home) / vid, {
        "id": vid, "state": PUBLISHED, "base": None, "started_at": None,
        "built_at": dt.datetime.fromtimestamp(plain.stat().st_mtime).isoformat(timespec="seconds"),
        "published_at": _now(), "note": "版本管理启用前的数据库，原样接管"})
    v.dir.mkdir(parents=True)
    os.link(plain, v.store)
    v.save()
    _point(home, v)
    return v


def _point(home: Path, v: Version) -> None:
    """Make ``v`` live: a new link beside the old, renamed over it (rename is atomic; readers never see no store)."""
    link = store_path(Path(home))
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    os.symlink(Path(VERSIONS) / v.id / STORE_FILE, tmp)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


@dataclass
class Build:
    """A version being built; :func:`begin_build` makes one, :meth:`finish` publishes or discards it."""
    home: Path
    version: Version
    base: Version | None
    _lock: contextlib.ExitStack

    @property
    def store_path(self) -> Path:
        return self.version.store

    @property
    def dir(self) -> Path:
        return self.version.dir

    @property
    def id(self) -> str:
        return self.version.id

    def reports_dir(self, as_of: dt.date) -> Path:
        return self.dir / "reports" / as_of.isoformat()

    def mark_ready(self, **record) -> None:
        """The graph's last asset ran: every blocking check passed. Published when the run ends well."""
        self.version.update(state=READY, ready_at=_now(), **record)

    def finish(self, *, succeeded: bool, error: str | None = None) -> Version | None:
        """Publish (a ready build of a run without a failed step) or discard; releases the build lock.
        Call with the store closed. Returns the version made live, or None."""
        try:
            if succeeded and self.version.state == READY:
                return self._publish()
            why = error or ("运行未完成全部步骤" if self.version.state == BUILDING else "运行中有步骤失败")
            self.version.update(state=FAILED, failed_at=_now(), error=why[:2000])
            _remove_files(self.version)
            return None
        finally:
            self._lock.close()

    def _publish(self) -> Version:
        store = self.version.store
        for leftover in (store.with_name(store.name + ".wal"),):
            if leftover.exists():
                raise VersionError(f"新版本 {self.id} 的数据库未完整写入（存在 {leftover.name}），未发布。")
        shutil.rmtree(store.with_name(store.name + ".tmp"), ignore_errors=True)   # DuckDB's spill folder
        with open(store, "rb+") as f:
            os.fsync(f.fileno())
        _point(self.home, self.version)                      # <- the publish: one atomic rename
        self.version.update(state=PUBLISHED, published_at=_now())
        publish_reports(self.home, self.version)
        prune(self.home)
        self.version.live = True
        return self.version


def begin_build(home: Path, *, as_of: dt.date | None = None, what: str = "onceonly run") -> Build:
    """Take the build lock, clear what killed builds left, and start a new version from the live one's file."""
    home = Path(home)
    stack = contextlib.ExitStack()
    stack.enter_context(_build_lock(home, what))
    try:
        adopt_plain_store(home)
        for v in list_versions(home):
            if v.state in (BUILDING, READY) and not v.live:     # we hold the lock: nobody is building these
                v.update(state=FAILED, failed_at=_now(), error=v.record.get("error") or "构建被中断（进程被终止）")
                _remove_files(v)
        base = live(home)
        vid = _next_id(home)
        v = Version(versions_dir(home) / vid, {"id": vid, "state": BUILDING, "base": base.id if base else None,
                                              "started_at": _now(), "pid": os.getpid(),
                                              "as_of": as_of.isoformat() if as_of else None})
        v.dir.mkdir(parents=True)
        v.save()
        if base is not None and base.has_store:
            started = time.monotonic()
            # A plain copy (copy_file_range: no user-space buffer): measured cheaper than DuckDB's COPY FROM
            # DATABASE, which re-encodes every table (docs/benchmarks.md, "Store versions").
            shutil.copyfile(base.store, v.store)
            v.update(copied_from=base.id, copy_seconds=round(time.monotonic() - started, 2))
        return Build(home, v, base, stack)
    except BaseException:
        stack.close()
        raise


def _remove_files(v: Version) -> None:
    """A version's data, not its record (kept for `onceonly runs` until pruned)."""
    for p in v.dir.iterdir():
        if p.name == RECORD:
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def publish_reports(home: Path, v: Version) -> None:
    """Copy (hard links) the version's rendered reports to ``home/reports/<as-of>/``: the operator's folder
    shows the live version's reports. The folder is swapped by two renames, so it is missing for an instant."""
    src_root = v.dir / "reports"
    if not src_root.is_dir():
        return
    dest_root = Path(home) / "reports"
    dest_root.mkdir(parents=True, exist_ok=True)
    for src in sorted(p for p in src_root.iterdir() if p.is_dir()):
        staged = dest_root / f".{src.name}.{v.id}.new"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(src, staged, copy_function=os.link)
        dest = dest_root / src.name
        old = dest_root / f".{src.name}.{v.id}.old"
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            os.rename(dest, old)
        os.rename(staged, dest)
        shutil.rmtree(old, ignore_errors=True)


def prune(home: Path, keep: int | None = None) -> list[str]:
    """Keep the files of the live version and of the newest ``keep - 1`` other published versions; older
    versions keep only their record (the newest ``HISTORY`` records). Returns the ids whose files were removed."""
    keep = keep or keep_versions()
    removed = []
    kept = 0
    for n, v in enumerate(list_versions(home)):
        if v.state in (BUILDING, READY) and not v.live:
            continue                                # a build in progress (the caller holds the lock) or its leftovers
        if v.live or (v.state == PUBLISHED and v.has_store and kept < keep - 1):
            kept += 0 if v.live else 1
            continue
        if v.has_store or (v.dir / "reports").exists():
            _remove_files(v)
            removed.append(v.id)
        if n >= HISTORY:
            shutil.rmtree(v.dir, ignore_errors=True)
    return removed


def rollback(home: Path, to: str | None = None) -> tuple[Version, Version]:
    """Make the previous published version (or ``to``) live again; the one it replaces is marked rolled back.
    Returns (now live, replaced)."""
    home = Path(home)
    with _build_lock(home, "onceonly rollback"):
        current = live(home)
        if current is None:
            raise VersionError("还没有发布过任何数据版本，无可回退。")
        candidates = [v for v in list_versions(home) if not v.live and v.has_store]
        if to is not None:
            target = next((v for v in candidates if v.id == to.zfill(6)), None)
            if target is None:
                have = "、".join(v.id for v in candidates) or "无"
                raise VersionError(f"版本 {to} 不存在或其数据已删除。可回退到的版本：{have}。")
        else:
            target = next((v for v in candidates if v.id < current.id and v.state == PUBLISHED), None)
            if target is None:
                raise VersionError(f"当前版本 {current.id} 之前没有保留的已发布版本，无可回退"
                                   f"（保留最近 {keep_versions()} 个版本，见 ONCEONLY_KEEP_VERSIONS）。")
        _point(home, target)
        target.update(state=PUBLISHED, restored_at=_now())
        current.update(state=ROLLED_BACK, rolled_back_at=_now(), rolled_back_to=target.id)
        publish_reports(home, target)
        from pipelines.quality import pending

        pending.forget_published_after(home, target.id)
        target.live, current.live = True, False
        return target, current


@contextlib.contextmanager
def working_copy(home: Path) -> Iterator[Path]:
    """A private copy of the live version's file, removed afterwards: for a command that must compute something the
    live version does not hold (another as-of date) without ever writing the live version."""
    source = store_path(Path(home))
    if not source.exists():
        raise VersionError(f"数据库不存在：{source}。请先运行 onceonly run --inbox 收件箱目录")
    work = versions_dir(home) / f".work-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir(parents=True)
    try:
        shutil.copyfile(os.path.realpath(source), work / STORE_FILE)
        yield work / STORE_FILE
    finally:
        shutil.rmtree(work, ignore_errors=True)


def describe(home: Path, limit: int = 10) -> str:
    """`onceonly runs`: which version is live, each version's state, build time, as-of date and batches."""
    all_versions = list_versions(home)
    now = building(home)
    lines = []
    current = next((v for v in all_versions if v.live), None)
    if current is not None:
        lines.append(f"当前数据版本：{current.id}（{current.built_at or '时间不详'} 构建，统计截止日期 "
                     f"{current.as_of or '—'}）；保留最近 {keep_versions()} 个已发布版本可供回退（onceonly rollback）")
    elif store_path(Path(home)).exists():
        lines.append("当前数据库为版本管理启用前建立的，下次运行时接管为第一个版本。")
    else:
        lines.append("还没有发布过任何数据版本。")
    if now:
        lines.append(f"正在构建：{now.get('what') or '构建'}（进程号 {now.get('pid')}，开始于 {now.get('since')}）；"
                     "门户照常显示当前版本")
    if not all_versions:
        return "\n".join(lines)
    lines.append("版本\t状态\t构建开始\t构建完成\t截止日期\t批次（本次新增/全部）\t人员状态\t说明")
    for v in all_versions[:limit]:
        r = v.record
        state = "当前版本" if v.live else STATE_CN.get(v.state, v.state)
        if v.state == BUILDING and now and not v.live:
            state = STATE_CN[BUILDING]
        new = r.get("new_batches") or []
        batches = f"{len(new)} / {r['batches']['files']}" if r.get("batches") else "—"
        counts = "，".join(f"{k} {n}" for k, n in (r.get("status_counts") or {}).items()) or "—"
        files = "、".join(b[0] for b in new[:3]) + ("等" if len(new) > 3 else "")
        note = "；".join(x for x in (f"新增 {files}" if files else "", r.get("error") or "", r.get("note") or "",
                                     f"回退到 {r['rolled_back_to']}" if r.get("rolled_back_to") else "",
                                     "" if v.has_store or v.live else "数据已删除") if x)
        lines.append("\t".join(str(x) for x in (v.id, state, r.get("started_at") or "—", r.get("built_at") or "—",
                                                r.get("as_of") or "—", batches, counts, note or "")))
    return "\n".join(lines)
