"""Inbox files -> raw.* (contract §1; docs/architecture.md, "raw").

One file is one batch, keyed by the SHA-256 of its bytes. A batch is read, its headers matched
to its folder's template, its rows stored verbatim in raw.<template> and checked by SQL generated
from the catalog (sql/raw/row_checks.sql) -- all in one transaction, so a batch is in raw whole
or not at all.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from pipelines.ingest import diagnose, stats
from pipelines.ingest.headers import HeaderMatch, best_other_template, data_rows, match_header
from pipelines.ingest.readers import INBOX_SUFFIXES, Grid, UnreadableFile, read_file
from pipelines.ingest.sqlgen import catalog_hash, masked_sql, render, sql_literal
from pipelines.ingest.typed import ensure_typed_batches, keep_typed, type_incoming, typed_version
from pipelines.sources import Catalog, Template, load_catalog
from pipelines.store import Store, set_variables, worker_connection

# Field types whose workbook cells are expected to be numbers: a number there is not noted in cell_types.
NUMERIC_TYPES = ("integer", "decimal")
# extra_fields key holding the text of a CSV record that could not be split into fields.
BROKEN_TEXT_KEY = "（无法分列的原文）"
# cell_types marks every field's cell with these, whatever its type: the row checks refuse them.
CELL_MARKS = ("formula", "error")
# Files an office's computer leaves beside the real ones: recorded as ignored, never read.
SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}
# Batches loaded at a time (see _Loader).
LOAD_WORKERS = 2
# Rows per Arrow record batch handed to DuckDB (10 vectors of 2048): small enough for every thread to get work.
ARROW_BATCH_ROWS = 20480


@dataclass
class BatchResult:
    batch_id: str | None      # None for a file that is no batch (unknown folder, unsupported type)
    template: str | None
    file_name: str            # relative to the inbox
    status: str               # loaded / rejected / skipped (seen before, or a copy) / ignored (not a batch)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None
    new: bool = False         # read in this call
    reason: str | None = None  # ignored: not_template_folder / inbox_root / unsupported_type / hidden /
    #                            lock_file / unreadable; skipped: seen_before / duplicate
    duplicate_of: str | None = None   # skipped as a copy: the file the batch was loaded from
    detail: str | None = None  # a reader's own words for a file it could not read: the event log, not the clerk
    file_size: int | None = None
    prior_status: str | None = None   # skipped: what became of the batch (loaded / rejected)


@dataclass
class FolderOutcome:
    path: str                 # relative to the inbox, ending in /
    outcome: str              # template (its files are read) / ignored
    reason: str | None = None
    template: str | None = None
    files: int = 0            # files below it
    message: str | None = None


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, catalog: Catalog | None = None) -> None:
    """raw.batches, raw.row_errors and one raw.<template> per template (new fields added as columns)."""
    catalog = catalog or load_catalog()
    Store.run_sql(conn, "raw/tables.sql")
    ensure_typed_batches(conn)  # here, not by the loading threads: two CREATEs at once would conflict
    have: dict[str, set[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'raw'").fetchall():
        have.setdefault(table, set()).add(column)
    for t in catalog:
        if t.name not in have:
            cols = ", ".join(f'"{c}" VARCHAR' for c in t.columns)
            conn.execute(
                f"CREATE TABLE raw.{t.name} (batch_id VARCHAR NOT NULL, row_no INTEGER NOT NULL, {cols}, "
                "extra_fields MAP(VARCHAR, VARCHAR), cell_types MAP(VARCHAR, VARCHAR))"
            )
            continue
        for c in t.columns:
            if c not in have[t.name]:
                conn.execute(f'ALTER TABLE raw.{t.name} ADD COLUMN "{c}" VARCHAR')


def _walk_inbox(inbox: Path) -> tuple[list[Path], list[Path]]:
    """Every file and folder under ``inbox`` (sorted); a hidden folder is listed, never entered."""
    files, folders = [], []
    for root, dirs, names in os.walk(inbox):
        base = Path(root)
        for d in dirs:
            folders.append(base / d)
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
        files += [base / n for n in names]
    return sorted(files), sorted(folders)


def load_inbox(
    conn: duckdb.DuckDBPyConnection, inbox: Path, *, loaded_on: dt.date, catalog: Catalog | None = None,
    workers: int = LOAD_WORKERS, progress=None,
) -> list[BatchResult]:
    """Load every new file of ``inbox`` into raw.*; one BatchResult per file found, in path order,
    and every file's and folder's outcome into raw.inbox_files (record_inbox).

    ``progress`` (optional, pipelines.progress.Reading) is told the files found and each file done.

    Each file is judged here, in path order (not a batch, seen before, or to load), and loaded on one
    of ``workers`` threads, each batch in its own transaction. The load order is path order however
    the threads finish: batch_no counts on in path order, and loaded_at is this call's start plus one
    microsecond per batch, so "the newer file" of every tie-break is the same on every run.
    """
    catalog = catalog or load_catalog()
    inbox = Path(inbox)
    ensure_raw_tables(conn, catalog)
    config = catalog_hash(catalog)
    started, first_no = conn.execute(
        "SELECT current_localtimestamp(), (SELECT coalesce(max(batch_no), 0) + 1 FROM raw.batches)").fetchall()[0]
    files, folders = _walk_inbox(inbox)
    if progress is not None:
        progress.files_found(len(files), sum(_size(p) for p in files))
    results: list[BatchResult | Future] = []
    seen: dict[str, str] = {}
    known = stats.known(conn, inbox)
    hashed: dict[Path, tuple] = {}
    with _Loader(conn, catalog, workers, progress) as loader:
        for path in files:
            rel = path.relative_to(inbox)
            name = rel.as_posix()
            folder = rel.parts[0] if len(rel.parts) > 1 else None
            ignored = _not_a_batch(catalog, folder, name, path, rel)
            data = batch_id = prior = None
            if ignored is None:
                try:
                    # A file the last load hashed and nothing has written since (same size, mtime, ctime, inode)
                    # holds the same bytes: its batch is known without reading it again (stats.py).
                    stat = stats.key(path)
                    batch_id = stats.unchanged(known, path, stat)
                    prior = _prior(conn, batch_id)
                    if prior is None or (prior[2] == "rejected" and prior[7] != config):
                        data = path.read_bytes()
                        batch_id = hashlib.sha256(data).hexdigest()
                        prior = _prior(conn, batch_id)
                except OSError as exc:
                    ignored = BatchResult(None, folder, name, "ignored", reason="unreadable", detail=str(exc),
                                          message=f"{name} 未导入：文件无法打开（可能正被其他程序占用，或没有读取权限）："
                                                  "请关闭打开它的程序后重新运行")
            if ignored is not None:
                results.append(ignored)
                if progress is not None:
                    progress.file_done(name, _size(path), 0)
                continue
            hashed[path] = (stat, batch_id)
            size = len(data) if data is not None else stat[0]
            if batch_id in seen:
                results.append(BatchResult(batch_id, folder, name, "skipped", reason="duplicate",
                                           duplicate_of=seen[batch_id], file_size=size,
                                           message=f"{name} 与 {seen[batch_id]} 内容相同，已跳过"))
                if progress is not None:
                    progress.file_done(name, size, 0)
                continue
            seen[batch_id] = name
            if prior and not (prior[2] == "rejected" and prior[7] != config):
                before = f"此前已被拒收：{prior[3]}" if prior[2] == "rejected" else f"已于此前导入（{prior[1]}），未重复导入"
                results.append(BatchResult(batch_id, prior[0], name, "skipped", prior[4] or 0, prior[5] or 0,
                                           prior[6] or 0, message=f"{name} {before}", reason="seen_before",
                                           duplicate_of=prior[1] if prior[1] != name else None,
                                           file_size=size, prior_status=prior[2]))
                if progress is not None:
                    progress.file_done(name, size, 0)
                continue
            batch_no = first_no + loader.submitted
            batch = {
                "batch_id": batch_id, "template": folder, "file_name": name, "file_size": len(data),
                "file_format": path.suffix.lower().lstrip("."), "encoding": None, "header_row": None,
                "loaded_on": loaded_on, "config_hash": config, "batch_no": batch_no,
                "loaded_at": started + dt.timedelta(microseconds=batch_no - first_no),
            }
            results.append(loader.submit(catalog[folder], path, data, batch, replace=prior is not None))
    done = [r.result() if isinstance(r, Future) else r for r in results]
    record_inbox(conn, inbox, done, [_folder_outcome(catalog, inbox, f, files) for f in folders])
    stats.record(conn, inbox, hashed)
    return done


def _prior(conn: duckdb.DuckDBPyConnection, batch_id: str | None) -> tuple | None:
    """The raw.batches row of ``batch_id`` (what to answer for a file seen before), or None."""
    if batch_id is None:
        return None
    rows = conn.execute(
        "SELECT template, file_name, status, message, rows_read, rows_loaded, rows_rejected, config_hash "
        "FROM raw.batches WHERE batch_id = ?", [batch_id]).fetchall()
    return rows[0] if rows else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _folder_outcome(catalog: Catalog, inbox: Path, folder: Path, files: list[Path]) -> FolderOutcome:
    rel = folder.relative_to(inbox)
    path = rel.as_posix() + "/"
    inside = sum(1 for f in files if folder in f.parents)
    top = rel.parts[0]
    if folder.name.startswith(".") or folder.name == "__MACOSX":
        return FolderOutcome(path, "ignored", "hidden", files=inside,
                             message=f"{path} 未读取：隐藏文件夹或系统文件夹（如 .git、__MACOSX）")
    if top in catalog.templates:
        return FolderOutcome(path, "template", template=top, files=inside)
    known = "、".join(catalog.templates)
    if len(rel.parts) > 1:   # inside a folder that is no template: that folder's outcome says why
        return FolderOutcome(path, "ignored", "not_template_folder", files=inside,
                             message=f"{path} 未读取：它所在的文件夹 {top} 不是采集模板")
    return FolderOutcome(path, "ignored", "not_template_folder", files=inside,
                         message=f"{path} 未读取：文件夹 {top} 不是采集模板（应为 {known} 之一），"
                                 f"其中 {inside} 个文件都未导入")


def record_inbox(conn: duckdb.DuckDBPyConnection, inbox: Path, results: list[BatchResult],
                 folders: list[FolderOutcome]) -> None:
    """raw.inbox_files: every file and folder of the inbox as this load found it, with its outcome
    (replaced whole by each load, in one transaction: the inbox as it is now, never its history).
    A file whose batch was loaded or refused on an earlier run keeps that outcome; a second file
    with the same bytes is a duplicate of the batch, named by its number and first file."""
    known = {b: (no, name, status, message) for b, no, name, status, message in conn.execute(
        "SELECT batch_id, batch_no, file_name, status, message FROM raw.batches").fetchall()}
    paths: dict[str, list[str]] = {}
    for r in results:
        if r.batch_id is not None:
            paths.setdefault(r.batch_id, []).append(r.file_name)
    # The file a batch was loaded from, if it is still there, else the first copy in path order.
    original = {b: known[b][1] if b in known and known[b][1] in names else names[0] for b, names in paths.items()}
    rows = []
    for r in results:
        if r.batch_id is None:
            rows.append((r.file_name, "file", "ignored", r.reason, r.template, None, r.file_size, r.message))
            continue
        no, first, status, message = known.get(r.batch_id, (None, None, r.status, r.message))
        if original[r.batch_id] != r.file_name:
            rows.append((r.file_name, "file", "duplicate", "duplicate", r.template, r.batch_id, r.file_size,
                         f"{r.file_name} 未导入：与批次 #{no}（{first}）内容完全相同，同一文件只导入一次；"
                         "如果这是修改后的新文件，请确认修改已保存"))
            continue
        rows.append((r.file_name, "file", status, None, r.template, r.batch_id, r.file_size,
                     message if status == "rejected" else None))
    for f in folders:
        rows.append((f.path, "folder", f.outcome, f.reason, f.template, None, None, f.message))
    conn.begin()
    try:
        conn.execute("DELETE FROM raw.inbox_files")
        if rows:
            conn.executemany("INSERT INTO raw.inbox_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def _not_a_batch(catalog: Catalog, folder: str | None, name: str, path: Path, rel: Path) -> BatchResult | None:
    """The result for a file that is no batch (not in a template's folder, not a table, a file the
    computer made), else None."""
    base = path.name
    if base.startswith("~$") or base.startswith(".~lock."):
        return BatchResult(None, folder, name, "ignored", reason="lock_file", file_size=_size(path),
                           message=f"{name} 未导入：这是表格软件打开文件时生成的临时文件（原文件正被打开），可以删除")
    if base.startswith(".") or base.lower() in SYSTEM_FILES:
        return BatchResult(None, folder, name, "ignored", reason="hidden", file_size=_size(path),
                           message=f"{name} 未导入：隐藏文件或系统文件，不是数据")
    if folder not in catalog.templates:
        known = "、".join(catalog.templates)
        if folder is None:
            why = f"放在了收件箱根目录，没有放进模板文件夹（应放在 {known} 之一的文件夹中）"
            reason = "inbox_root"
        else:
            why = f"文件夹 {folder} 不是采集模板（应放在 {known} 之一的文件夹中）"
            reason = "not_template_folder"
        return BatchResult(None, folder, name, "ignored", reason=reason, file_size=_size(path),
                           message=f"{name} 未导入：{why}")
    suffix = path.suffix.lower()
    if suffix not in INBOX_SUFFIXES:
        return BatchResult(None, folder, name, "ignored", reason="unsupported_type", file_size=_size(path),
                           message=f"{name} 未导入：不支持 {suffix or '无扩展名'} 文件，只读取 .csv、.xlsx 和 .xls 表格"
                                   "（请用 Excel 或 WPS 另存为 .xlsx 或“CSV UTF-8（逗号分隔）”）")
    return None


class _Loader:
    """Loads batches on worker threads, each worker on its own connection (worker_connection).

    DuckDB runs every statement on all cores, but a batch also has steps that use one (decoding,
    header matching, the commit's writes): with two batches in flight the cores stay busy. Batches of
    one template may load side by side, except while the template has no loaded batch yet: that
    first batch creates staging.<template> (keep_typed), so the next one waits for its commit.
    At most ``workers + 1`` files' bytes are held at once.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, catalog: Catalog, workers: int, progress=None):
        self.catalog = catalog
        self.progress = progress
        self.submitted = 0
        self._futures: list[Future] = []
        self._connections: queue.SimpleQueue = queue.SimpleQueue()
        self._opened = [worker_connection(conn) for _ in range(workers)]
        for c in self._opened:
            self._connections.put(c)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ingest")
        self._slots = threading.BoundedSemaphore(workers + 1)
        self._first = {t.name: threading.Lock() for t in catalog}
        self._has_loaded = {t for (t,) in conn.execute(
            "SELECT DISTINCT template FROM raw.batches WHERE status = 'loaded'").fetchall()}

    def submit(self, template: Template, path: Path, data: bytes, batch: dict, *, replace: bool) -> Future:
        for done in self._futures:  # a batch that failed stops the load (the ones under way finish)
            if done.done() and done.exception() is not None:
                raise done.exception()
        self._slots.acquire()
        future = self._pool.submit(self._load, template, path, data, batch, replace)
        future.add_done_callback(lambda _: self._slots.release())
        self._futures.append(future)
        self.submitted += 1
        return future

    def _load(self, template: Template, path: Path, data: bytes, batch: dict, replace: bool) -> BatchResult:
        conn = self._connections.get()
        alone = self._first[template.name] if template.name not in self._has_loaded else contextlib.nullcontext()
        try:
            with alone:
                result = _load_batch(conn, self.catalog, template, path, data, batch, replace=replace)
                if result.status == "loaded":
                    self._has_loaded.add(template.name)
                if self.progress is not None:
                    self.progress.file_done(result.file_name, len(data), result.rows_read)
                return result
        finally:
            self._connections.put(conn)

    def __enter__(self) -> _Loader:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)
        for c in self._opened:
            c.close()


def _load_batch(conn, catalog: Catalog, template: Template, path: Path, data: bytes, batch: dict, *,
                replace: bool) -> BatchResult:
    """One batch into raw.* in one transaction; ``batch`` is its raw.batches row so far."""
    name, batch_id = batch["file_name"], batch["batch_id"]
    try:
        grid = read_file(path, data)
    except UnreadableFile as exc:
        return _reject(conn, batch, f"{name} 无法读取：{exc}", replace, detail=exc.detail)
    batch["encoding"] = grid.encoding
    batch["file_format"] = grid.file_format
    header = match_header(grid, template)
    batch["header_row"] = header.header_row if header.score else None
    if header.score == 0 or header.missing:
        return _reject(conn, batch, _header_message(name, grid, data, path, catalog, template, header), replace)

    rows = data_rows(grid, header)
    read = rows.height
    conn.begin()
    try:
        _stage_incoming(conn, template, grid, header, rows, batch_id)
        conn.execute(f"INSERT INTO raw.{template.name} BY NAME SELECT * FROM _incoming")
        set_variables(conn, {"batch_id": batch_id, "file_name": name, "loaded_on": batch["loaded_on"]})
        typed = type_incoming(conn, catalog, template)
        conn.execute(render("raw/row_checks.sql", catalog, t=template, typed=typed, **_check_context(grid, header, rows, data)))
        keep_typed(conn, template.name, batch_id, typed_version(catalog))
        _report_columns(conn, template, grid, header, rows, batch)
        rejected = conn.execute(
            "SELECT count(DISTINCT row_no) FROM raw.row_errors WHERE batch_id = ? AND severity = 'reject'",
            [batch_id]).fetchall()[0][0]
        _write_batch(conn, {**batch, "status": "loaded", "message": None, "rows_read": read,
                            "rows_loaded": read - rejected, "rows_rejected": rejected}, replace)
        _drop_incoming(conn)
        conn.commit()
    except BaseException:
        conn.rollback()
        with contextlib.suppress(Exception):
            _drop_incoming(conn)
        raise
    return BatchResult(batch_id, template.name, name, "loaded", read, read - rejected, rejected, None, True,
                       file_size=batch["file_size"])


def _header_message(name: str, grid: Grid, data: bytes, path: Path, catalog: Catalog, template: Template,
                    header: HeaderMatch) -> str:
    """Why a file is refused whole for its header: the encoding or layout when that is the cause
    (diagnose), else the columns missing, and the folder it seems to belong in."""
    cause = diagnose.explain(grid, data, path.suffix.lower(), template, header)
    if cause:
        return f"{name} 无法导入：{cause}"
    required = "、".join(f.name for f in template.required)
    if header.score == 0:
        message = (f"{name} 的表头与“{template.title}”模板不符，未找到任何已知列"
                   f"（表头应在前 6 行之内，必填列为：{required}）")
    else:
        message = f"{name} 缺少必填列：" + "、".join(f.name for f in header.missing)
    other = best_other_template(grid, catalog, header, template.name)
    if other is not None:
        message += f"（表头像是“{other.title}”，是否放错了文件夹？应放在 {other.name} 文件夹）"
    return message


# C0 controls but tab and line ends, and DEL (as sql/raw/row_checks.sql); and the bytes that are none.
CONTROL_CHARACTERS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
_NOT_CONTROL_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r" + bytes(range(0x80, 0x100))


def _scan(grid: Grid, header: HeaderMatch, rows: pl.DataFrame, data: bytes) -> dict:
    """What the file's template cells hold at all: the row checks leave out the cell-level tests that
    cannot find anything (most files have no control character, no error value, no over-long cell),
    which would otherwise cost a regular expression per cell. A CSV's bytes answer the first two at
    memory speed (no byte of UTF-8, GBK or GB18030 text but a control character is below 0x20 or 0x7F)."""
    cols = list(header.fields)
    if not cols or rows.height == 0:
        return {"error_text": False, "control": False, "marks": False, "long": set()}
    csv = grid.file_format == "csv"
    may_control = bool(data.translate(None, _NOT_CONTROL_BYTES)) if csv else True
    may_hash = b"#" in data if csv else True
    found = rows.select(
        *(pl.any_horizontal(pl.col(c).str.starts_with("#") for c in cols).any().alias("error_text"),) if may_hash else (),
        *(pl.any_horizontal(pl.col(c).str.contains(CONTROL_CHARACTERS) for c in cols).any().alias("control"),)
        if may_control else (),
        *(pl.col(c).str.len_bytes().max().alias(f"len_{c}") for c in cols),
        *((pl.any_horizontal(pl.col(f"type_{c}").is_in(CELL_MARKS) for c in cols).any().alias("marks"),)
          if not csv else ()),
    ).row(0, named=True)
    return {
        "error_text": bool(found.get("error_text")), "control": bool(found.get("control")),
        "marks": bool(found.get("marks")),
        "long": {f.column for c, f in header.fields.items() if (found[f"len_{c}"] or 0) > f.max_length},
    }


def _check_context(grid: Grid, header: HeaderMatch, rows: pl.DataFrame, data: bytes) -> dict:
    """What the row checks need to know of this file (sql/raw/row_checks.sql)."""
    first = {f.column: col for col, f in header.fields.items()}
    dups = [{"f": f, "key": header.unknown[col], "first_label": grid.column_label(first[f.column]),
             "second_label": grid.column_label(col)} for col, f in header.duplicates.items()]
    return {
        "fmt": grid.file_format,
        "scan": _scan(grid, header, rows, data),
        "broken": "_row" in rows.columns and rows.select(pl.col("_row").is_not_null().any()).item(),
        "unnamed": [header.unknown[c] for c in header.unnamed],
        "dups": dups,
        # a message quotes a cell masked by its field's class (reports/extracts.yaml `classes`)
        "mask": lambda f, expr: masked_sql(expr, f.name) if f is not None else expr,
    }


def _stage_incoming(conn, template: Template, grid: Grid, header: HeaderMatch, rows: pl.DataFrame,
                    batch_id: str) -> None:
    """The batch's rows as TEMP view _incoming, shaped like raw.<template> (valid until
    _drop_incoming). A view, not a table: it is read twice (into raw, and by the row checks),
    and copying millions of rows into a temp table costs more than reading the frame again."""
    by_column = {f.column: col for col, f in header.fields.items()}
    has_types = grid.file_format != "csv"
    # Blank cells become NULL in polars (vectorised, before DuckDB copies the strings).
    cells = []
    for f in template.fields:
        col = by_column.get(f.column)
        if col is None:
            continue
        cell = pl.col(col)
        if has_types and f.type == "date":
            # A number in a date cell is an Excel serial date that lost its format.
            cell = pl.when(pl.col(f"type_{col}") == "number").then(pl.col(f"serial_{col}")).otherwise(cell)
        cells.append(pl.when(cell.str.strip_chars(" ") != "").then(cell).alias(f.column))
    extras_src = {f"_x{i}": col for i, col in enumerate(header.unknown)}
    # A number cell is noted where text was expected; a formula without its result or an error value
    # wherever it is (the row checks refuse both).
    types_src = {f"_t{i}": (f, f"type_{col}") for i, (col, f) in enumerate(header.fields.items()) if has_types}
    marks = {alias: pl.col(src) if f.type not in NUMERIC_TYPES else
             pl.when(pl.col(src).is_in(CELL_MARKS)).then(pl.col(src))
             for alias, (f, src) in types_src.items()}
    broken = "_row" in rows.columns
    frame = rows.select(
        pl.col("row_no"), *cells,
        *(pl.col(col).alias(alias) for alias, col in extras_src.items()),
        *(expr.alias(alias) for alias, expr in marks.items()),
        *((pl.col("_row"), pl.col("_text")) if broken else ()),
    )
    select = [f"{sql_literal(batch_id)} AS batch_id", "row_no"]
    for f in template.fields:
        select.append(f'"{f.column}"' if f.column in by_column else f'NULL::VARCHAR AS "{f.column}"')
    extras = [f"{{'key': {sql_literal(header.unknown[col])}, 'value': NULLIF(trim(\"{alias}\"), '')}}"
              for alias, col in extras_src.items()]
    types = [f"{{'key': {sql_literal(f.column)}, 'value': \"{alias}\"}}" for alias, (f, _) in types_src.items()]
    if broken:   # a record whose quotes do not pair up: its text kept as read, the row marked for the checks
        extras.append(f"{{'key': {sql_literal(BROKEN_TEXT_KEY)}, 'value': _text}}")
        types.append("{'key': '_row', 'value': _row}")
    for name, entries in (("extra_fields", extras), ("cell_types", types)):
        if entries:
            select.append(f"map_from_entries(list_filter([{', '.join(entries)}], lambda e: e.value IS NOT NULL))"
                          f"::MAP(VARCHAR, VARCHAR) AS {name}")
        else:
            select.append(f"MAP {{}}::MAP(VARCHAR, VARCHAR) AS {name}")
    # Several record batches, not one: DuckDB scans an Arrow table one batch per thread, and a
    # single batch leaves every statement over _incoming (the typing above all) on one core.
    cells_arrow = frame.to_arrow()
    conn.register("_incoming_cells", pa.Table.from_batches(
        cells_arrow.to_batches(max_chunksize=ARROW_BATCH_ROWS), schema=cells_arrow.schema))
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _incoming AS SELECT {', '.join(select)} FROM _incoming_cells")


def _drop_incoming(conn) -> None:
    conn.execute("DROP TABLE IF EXISTS _typed")
    conn.execute("DROP VIEW IF EXISTS _incoming")
    conn.unregister("_incoming_cells")


def _report_columns(conn, template: Template, grid: Grid, header: HeaderMatch, rows: pl.DataFrame,
                    batch: dict) -> None:
    """One warning per file for columns the template does not know (their data is kept) and one per
    field headed twice (rows where the two columns differ are refused by the row checks)."""
    def warn(rule: str, value: str, message: str) -> None:
        conn.execute(
            "INSERT INTO raw.row_errors (batch_id, template, row_no, field, value, rule, severity, message) "
            "VALUES (?, ?, NULL, NULL, ?, ?, 'warn', ?)", [batch["batch_id"], template.name, value, rule, message])

    unnamed = set(header.unnamed)
    named = [text for col, text in header.unknown.items() if col not in header.duplicates
             and (col not in unnamed or (grid.file_format != "csv"
                                         and rows.select(pl.col(col).is_not_null().any()).item()))]
    if named:
        listed = "、".join(named)
        warn("column_unknown", listed,
             f"{batch['file_name']} 有模板中没有的列：{listed}（数据已保留，但不会被使用）")
    first = {f.column: col for col, f in header.fields.items()}
    for col, f in header.duplicates.items():
        a, b = grid.column_label(first[f.column]), grid.column_label(col)
        warn("column_duplicate", f"{a}、{b}",
             f"{batch['file_name']} 的“{f.name}”有两列（{a}、{b}“{header.unknown[col]}”）：两列相同的行照常导入，"
             "不同的行被拒收；请删去多余的一列")


_BATCH_COLUMNS = ("batch_id", "template", "file_name", "file_size", "file_format", "encoding", "header_row",
                  "loaded_on", "loaded_at", "batch_no", "status", "message", "rows_read", "rows_loaded",
                  "rows_rejected", "config_hash")


def _write_batch(conn, batch: dict, replace: bool) -> None:
    if replace:
        # Only a batch rejected whole is ever re-examined: it has no rows in raw.<template>.
        conn.execute("DELETE FROM raw.batches WHERE batch_id = ?", [batch["batch_id"]])
    conn.execute(
        f"INSERT INTO raw.batches ({', '.join(_BATCH_COLUMNS)}) VALUES ({', '.join('?' for _ in _BATCH_COLUMNS)})",
        [batch.get(c) for c in _BATCH_COLUMNS],
    )


def _reject(conn, batch: dict, message: str, replace: bool, detail: str | None = None) -> BatchResult:
    conn.begin()
    try:
        _write_batch(conn, {**batch, "status": "rejected", "message": message,
                            "rows_read": 0, "rows_loaded": 0, "rows_rejected": 0}, replace)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return BatchResult(batch["batch_id"], batch["template"], batch["file_name"], "rejected",
                       message=message, new=True, detail=detail, file_size=batch["file_size"])
