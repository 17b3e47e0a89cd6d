"""write_extract: one department's extract, within its grant, as CSV, XLSX or Parquet, audited."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.publish import audit, masking
from pipelines.publish.grants import prepare, resolve_scope, scope_where
from pipelines.publish.registry import GrantRefused, load_registry
from pipelines.publish.writers import (chinese_type, write_csv, write_dictionary_csv, write_extract_xlsx,
                                      write_parquet)
from pipelines.store import Store

# Rows per Arrow batch when an extract is streamed to CSV/Parquet.
EXTRACT_BATCH_ROWS = 131072

# In the order a person is offered them (the portal's first is its default): XLSX keeps every code as text and
# prints; csv-excel is CSV for a double-click in Excel/WPS/LibreOffice (codes written as ="…", see
# writers.spreadsheet_safe); csv is the contract's plain CSV for programs; parquet for analysts' tools.
FORMATS = ("xlsx", "csv-excel", "csv", "parquet")
SUFFIX = {"xlsx": "xlsx", "csv-excel": "csv", "csv": "csv", "parquet": "parquet"}


@dataclass(frozen=True)
class ExtractResult:
    name: str
    path: Path
    dictionary_path: Path | None    # sidecar 数据字典 for csv/parquet (xlsx carries it as a sheet)
    fmt: str
    dept: str | None
    scope: str                      # 全库 / community:<code> / street:<code>
    as_of: dt.date
    columns: tuple[str, ...]
    rows: int
    sha256: str


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dictionary_path(out: Path) -> Path:
    return out.with_name(out.name + ".数据字典.csv")


def write_extract(conn: duckdb.DuckDBPyConnection, name: str, *, fmt: str, out: Path, dept: str | None,
                  scope: str | None, as_of: dt.date, user: str, home: Path,
                  columns: list[str] | None = None) -> ExtractResult:
    """Write extract ``name`` for ``dept`` (None: the store operator) limited to ``scope``; the handout is
    recorded in ``home``'s database (pipelines/publish/audit.py). Reads only: ``conn`` may be read-only.

    ``columns`` asks for a subset; a column outside the grant is refused, never dropped quietly.
    Raises :class:`GrantRefused` / :class:`NotAvailable` with a message for the clerk.
    """
    result = extract_file(conn, name, fmt=fmt, out=out, dept=dept, scope=scope, as_of=as_of, user=user,
                          columns=columns)
    audit.record(home, kind="extract", name=name, department=dept, user=user, scope=result.scope, as_of=as_of,
                 fmt=fmt, row_count=result.rows, columns=list(result.columns), path=result.path, sha256=result.sha256)
    return result


def extract_file(conn: duckdb.DuckDBPyConnection, name: str, *, fmt: str, out: Path, dept: str | None,
                 scope: str | None, as_of: dt.date, user: str, columns: list[str] | None = None) -> ExtractResult:
    """:func:`write_extract` without the handout record: for a file made once and handed out many times (the
    portal's per-version files), which records each handout itself."""
    if fmt not in FORMATS:
        raise GrantRefused(f"不支持的格式“{fmt}”，可选：{'、'.join(FORMATS)}。")
    reg = load_registry()
    spec = reg.extract(name)
    grant = reg.grant(dept, name, user)
    wanted = list(grant.columns)
    if columns is not None:
        outside = [c for c in columns if c not in grant.columns]
        if outside:
            raise GrantRefused(f"{dept or '本库'}对“{spec.title}”无权获取列：{'、'.join(outside)}。"
                               f"可获取的列：{'、'.join(grant.columns)}。")
        wanted = [c for c in grant.columns if c in columns]
    department = reg.department(dept) if dept is not None else None
    where_scope = resolve_scope(conn, department, scope)
    if where_scope.level == "grid" and not spec.grid:
        raise GrantRefused(f"“{spec.title}”不按网格划分，请指定社区或街道。")
    source = _materialized(conn, name, as_of)
    if source is None:
        prepare(conn, as_of)
        Store.run_sql(conn, f"reports/{spec.sql}", as_of=as_of)
        source = spec.view

    cols = [spec.column(c) for c in wanted]
    select = ", ".join(
        "CAST({} AS {}) AS {}".format(
            masking.column_sql(_q(c.name), c.kind, grant.masking), c.type, _q(c.name))
        for c in cols)
    where, params = scope_where(where_scope)
    # order_by columns first, then every output column: a total order whatever the grant leaves out.
    order = [f'"{c}"' for c in spec.order_by] + [f'"{c.name}"' for c in spec.columns]
    result = conn.sql(f"SELECT {select} FROM {source} WHERE {where} ORDER BY {', '.join(order)} NULLS FIRST",
                      params=params)

    dictionary = [{"列名": c.name, "类型": chinese_type(c.type), "说明": c.desc, "脱敏": masking.describe(c.kind, grant.masking)}
                  for c in cols]
    def info(rows: int) -> list[tuple[str, str]]:
        return [("数据提取", f"{spec.title}（{name}）"), ("部门", dept or "本库（未指定部门）"),
                ("范围", where_scope.label), ("统计截止日期", as_of.isoformat()), ("行数", str(rows)),
                ("说明", "人员状态按统计截止日期判定；截止日期之后的材料不计入。")]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar = None
    classes = {c.name: c.kind for c in cols}
    if fmt == "xlsx":  # a workbook is built whole anyway (and holds at most 1,048,576 rows)
        table = masking.scrub_arrow(result.to_arrow_table(), classes, grant.masking)
        rows = table.num_rows
        write_extract_xlsx(table, out, title=spec.title, dictionary=dictionary, info=info(rows),
                           types=[c.type for c in cols], as_of=as_of)
    else:  # streamed: a city's person-sources extract is tens of millions of rows
        stream = masking.scrub_reader(result.to_arrow_reader(EXTRACT_BATCH_ROWS), classes, grant.masking)
        if fmt == "parquet":
            rows = write_parquet(stream, out, dictionary)
        else:
            rows = write_csv(stream, out, for_spreadsheet=fmt == "csv-excel")
        sidecar = dictionary_path(out)
        write_dictionary_csv(sidecar, dictionary, info(rows) + ([(
            "格式", "供 Excel、WPS 双击打开的 CSV：身份证号、电话、编码等写成 =\"…\"，打开后仍是原样文本；"
                    "程序读取请用 csv 格式")] if fmt == "csv-excel" else []))
    digest = audit.sha256_file(out)
    return ExtractResult(name, out, sidecar, fmt, dept, where_scope.key, as_of, tuple(wanted), rows, digest)


# Every extract's rows for the store's as-of date, kept with the store version (built by materialize_extracts), so an
# extract is one scan of its own table: no as-of preparation (rp_* over every person) for each file the portal makes.
EXTRACT_TABLES = "marts.extract_tables"


def _table(name: str) -> str:
    return "marts.extract_" + name.replace("-", "_")


def _materialized(conn: duckdb.DuckDBPyConnection, name: str, as_of: dt.date) -> str | None:
    from pipelines.store import table_exists

    if not table_exists(conn, EXTRACT_TABLES):
        return None
    held = conn.execute(f"SELECT as_of FROM {EXTRACT_TABLES} WHERE name = ?", [name]).fetchall()
    return _table(name) if held and held[0][0] == as_of else None


def materialize_extracts(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int]:
    """Every extract's rows for ``as_of``, unmasked and in every column, as ``marts.extract_<name>`` (masking, column
    grants and the jurisdiction are applied when a file is written). Returns rows per extract."""
    reg = load_registry()
    prepare(conn, as_of)
    counts = {}
    for name, spec in reg.extracts.items():
        Store.run_sql(conn, f"reports/{spec.sql}", as_of=as_of)
        conn.execute(f"CREATE OR REPLACE TABLE {_table(name)} AS SELECT * FROM {spec.view}")
        counts[name] = conn.execute(f"SELECT count(*) FROM {_table(name)}").fetchall()[0][0]
    conn.execute(f"CREATE OR REPLACE TABLE {EXTRACT_TABLES} (name VARCHAR, as_of DATE)")
    conn.executemany(f"INSERT INTO {EXTRACT_TABLES} VALUES (?, ?)", [[n, as_of] for n in counts])
    return counts
