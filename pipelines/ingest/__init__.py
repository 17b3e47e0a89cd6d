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
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from pipelines.ingest.headers import HeaderMatch, best_other_template, data_rows, match_header
from pipelines.ingest.readers import Grid, UnreadableFile, read_file
from pipelines.ingest.sqlgen import catalog_hash, render, sql_literal
from pipelines.ingest.typed import ensure_typed_batches, keep_typed, type_incoming, typed_version
from pipelines.sources import Catalog, Template, load_catalog
from pipelines.store import Store, set_variables, worker_connection

SUPPORTED_SUFFIXES = (".csv", ".xlsx")
# Field types whose XLSX cells are expected to be numbers: not noted in cell_types.
NUMERIC_TYPES = ("integer", "decimal")
# Batches loaded at a time (see _Loader).
LOAD_WORKERS = 2
# Rows per Arrow record batch handed to DuckDB (10 vectors of 2048): small enough for every thread to get work.
ARROW_BATCH_ROWS = 20480


@dataclass
class BatchResult:
    batch_id: str | None      # None for a file that is no batch (unknown folder, unsupported type)
    template: str | None
    file_name: str            # relative to the inbox
    status: str               # loaded / rejected / skipped (seen before) / ignored (not a batch)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None
    new: bool = False         # read in this call


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


def _inbox_files(inbox: Path) -> list[Path]:
    return sorted(
        p for p in inbox.rglob("*")
        if p.is_file() and not p.name.startswith((".", "~$"))  # hidden files, Excel lock files
    )


def load_inbox(
    conn: duckdb.DuckDBPyConnection, inbox: Path, *, loaded_on: dt.date, catalog: Catalog | None = None,
    workers: int = LOAD_WORKERS,
) -> list[BatchResult]:
    """Load every new file of ``inbox`` into raw.*; one BatchResult per file found, in path order.

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
    results: list[BatchResult | Future] = []
    seen: dict[str, str] = {}
    with _Loader(conn, catalog, workers) as loader:
        for path in _inbox_files(inbox):
            rel = path.relative_to(inbox)
            name = rel.as_posix()
            folder = rel.parts[0] if len(rel.parts) > 1 else None
            ignored = _not_a_batch(catalog, folder, name, path)
            if ignored is not None:
                results.append(ignored)
                continue
            data = path.read_bytes()
            batch_id = hashlib.sha256(data).hexdigest()
            prior = conn.execute(
                "SELECT template, file_name, status, message, rows_read, rows_loaded, rows_rejected, config_hash "
                "FROM raw.batches WHERE batch_id = ?", [batch_id]).fetchall()
            prior = prior[0] if prior else None
            if batch_id in seen:
                results.append(BatchResult(batch_id, folder, name, "skipped",
                                           message=f"{name} 与 {seen[batch_id]} 内容相同，已跳过"))
                continue
            seen[batch_id] = name
            if prior and not (prior[2] == "rejected" and prior[7] != config):
                before = f"此前已被拒收：{prior[3]}" if prior[2] == "rejected" else f"已于此前导入（{prior[1]}），未重复导入"
                results.append(BatchResult(batch_id, prior[0], name, "skipped", prior[4] or 0, prior[5] or 0,
                                           prior[6] or 0, message=f"{name} {before}"))
                continue
            batch_no = first_no + loader.submitted
            batch = {
                "batch_id": batch_id, "template": folder, "file_name": name, "file_size": len(data),
                "file_format": path.suffix.lower().lstrip("."), "encoding": None, "header_row": None,
                "loaded_on": loaded_on, "config_hash": config, "batch_no": batch_no,
                "loaded_at": started + dt.timedelta(microseconds=batch_no - first_no),
            }
            results.append(loader.submit(catalog[folder], path, data, batch, replace=prior is not None))
    return [r.result() if isinstance(r, Future) else r for r in results]


def _not_a_batch(catalog: Catalog, folder: str | None, name: str, path: Path) -> BatchResult | None:
    """The result for a file that is no batch (not in a template's folder, or not CSV/XLSX), else None."""
    if folder not in catalog.templates:
        known = "、".join(catalog.templates)
        where = f"文件夹 {folder}" if folder else "收件箱根目录"
        return BatchResult(None, folder, name, "ignored",
                           message=f"{name} 未导入：{where} 不是采集模板（应放在 {known} 之一的文件夹中）")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return BatchResult(None, folder, name, "ignored",
                           message=f"{name} 未导入：只接受 .csv 和 .xlsx 文件（.xls 请另存为 .xlsx）")
    return None


class _Loader:
    """Loads batches on worker threads, each worker on its own connection (worker_connection).

    DuckDB runs every statement on all cores, but a batch also has steps that use one (decoding,
    header matching, the commit's writes): with two batches in flight the cores stay busy. Batches of
    one template may load side by side, except while the template has no loaded batch yet: that
    first batch creates staging.<template> (keep_typed), so the next one waits for its commit.
    At most ``workers + 1`` files' bytes are held at once.
    """

    def __init__(self, conn: duckdb.DuckDBPyConnection, catalog: Catalog, workers: int):
        self.catalog = catalog
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
        return _reject(conn, batch, f"{name} 无法读取：{exc}", replace)
    batch["encoding"] = grid.encoding
    header = match_header(grid, template)
    batch["header_row"] = header.header_row if header.score else None
    if header.score == 0 or header.missing:
        if header.score == 0:
            message = f"{name} 的表头与“{template.title}”模板不符，未找到任何已知列"
        else:
            message = f"{name} 缺少必填列：" + "、".join(f.name for f in header.missing)
        other = best_other_template(grid, catalog, header, template.name)
        if other is not None:
            message += f"（表头像是“{other.title}”，是否放错了文件夹？应放在 {other.name} 文件夹）"
        return _reject(conn, batch, message, replace)

    rows = data_rows(grid, header)
    read = rows.height
    conn.begin()
    try:
        _stage_incoming(conn, template, grid, header, rows, batch_id)
        conn.execute(f"INSERT INTO raw.{template.name} BY NAME SELECT * FROM _incoming")
        set_variables(conn, {"batch_id": batch_id, "file_name": name, "loaded_on": batch["loaded_on"]})
        typed = type_incoming(conn, catalog, template)
        conn.execute(render("raw/row_checks.sql", catalog, t=template, typed=typed))
        keep_typed(conn, template.name, batch_id, typed_version(catalog))
        _report_unknown_columns(conn, template, header, rows, batch)
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
    return BatchResult(batch_id, template.name, name, "loaded", read, read - rejected, rejected, None, True)


def _stage_incoming(conn, template: Template, grid: Grid, header: HeaderMatch, rows: pl.DataFrame,
                    batch_id: str) -> None:
    """The batch's rows as TEMP view _incoming, shaped like raw.<template> (valid until
    _drop_incoming). A view, not a table: it is read twice (into raw, and by the row checks),
    and copying millions of rows into a temp table costs more than reading the frame again."""
    by_column = {f.column: col for col, f in header.fields.items()}
    has_types = grid.file_format == "xlsx"
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
    types_src = {f"_t{i}": (f, f"type_{col}") for i, (col, f) in enumerate(header.fields.items())
                 if has_types and f.type not in NUMERIC_TYPES}
    frame = rows.select(
        pl.col("row_no"), *cells,
        *(pl.col(col).alias(alias) for alias, col in extras_src.items()),
        *(pl.col(src).alias(alias) for alias, (_, src) in types_src.items()),
    )
    select = [f"{sql_literal(batch_id)} AS batch_id", "row_no"]
    for f in template.fields:
        select.append(f'"{f.column}"' if f.column in by_column else f'NULL::VARCHAR AS "{f.column}"')
    extras = [f"{{'key': {sql_literal(header.unknown[col])}, 'value': NULLIF(trim(\"{alias}\"), '')}}"
              for alias, col in extras_src.items()]
    types = [f"{{'key': {sql_literal(f.column)}, 'value': \"{alias}\"}}" for alias, (f, _) in types_src.items()]
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


def _report_unknown_columns(conn, template: Template, header: HeaderMatch, rows: pl.DataFrame, batch: dict) -> None:
    """One warning per file listing the columns the template does not know (their data is kept)."""
    named = [text for col, text in header.unknown.items()
             if not text.startswith("第") or rows.select(pl.col(col).is_not_null().any()).item()]
    if not named:
        return
    listed = "、".join(named)
    conn.execute(
        "INSERT INTO raw.row_errors (batch_id, template, row_no, field, value, rule, severity, message) "
        "VALUES (?, ?, NULL, NULL, ?, 'column_unknown', 'warn', ?)",
        [batch["batch_id"], template.name, listed,
         f"{batch['file_name']} 有模板中没有的列：{listed}（数据已保留，但不会被使用）"],
    )


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


def _reject(conn, batch: dict, message: str, replace: bool) -> BatchResult:
    conn.begin()
    try:
        _write_batch(conn, {**batch, "status": "rejected", "message": message,
                            "rows_read": 0, "rows_loaded": 0, "rows_rejected": 0}, replace)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return BatchResult(batch["batch_id"], batch["template"], batch["file_name"], "rejected",
                       message=message, new=True)
