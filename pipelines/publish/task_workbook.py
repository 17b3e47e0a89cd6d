"""走访核查任务单: the verification tasks of a grid as a workbook to print and carry door to door.

One workbook per grid, one sheet per grid worker (the worker of each house's micro-grid), rows ordered by
compound, building, unit and room so a worker walks each building once. Every sheet prints on A4 landscape
with its header row repeated on each page, in a named Chinese font, with blank columns for what the visit
finds. The rows are the ``verification-tasks`` extract's, under the same grant: a department without it gets
nothing, ID numbers are masked as its grant says, a column the grant leaves out is left out. Each workbook is
audited like an extract, and the same as-of gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipelines.publish import audit, masking
from pipelines.publish.grants import prepare, resolve_scope
from pipelines.publish.registry import load_registry
from pipelines.publish.writers import as_of_stamp, display_width, freeze_xlsx, print_font, print_setup
from pipelines.store import Store, dicts

EXTRACT = "verification-tasks"
AUDIT_NAME = "verification-tasks-workbook"
NO_WORKER = "（未指定网格员）"
OUTCOMES = "在住 / 已搬离 / 查无此人 / 已死亡"
HEADER_ROW = 4

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="E7E6E6")


@dataclass(frozen=True)
class TaskWorkbook:
    grid_code: str
    grid_name: str
    path: Path
    tasks: int
    overdue: int
    sheets: tuple[str, ...]


# (header, source column, width, wrap): source None is a blank column for the worker to fill in.
_LAYOUT = [
    ("序号", "_no", 5, False), ("小区", "compound", 14, True), ("楼栋", "building", 6, False),
    ("单元", "unit", 6, False), ("房号", "room", 7, False), ("房屋编码", "房屋编码", 14, False),
    ("姓名", "姓名", 9, False), ("公民身份号码", "公民身份号码", 21, False),
    ("最近在住证据日期", "最近在住证据日期", 12, True), ("任务编号", "task_id", 20, False),
    ("开始日期", "opened_on", 11, False), ("逾期天数", "overdue_by", 7, True), ("依据", "依据", 34, True),
    ("走访结果", None, 12, True), ("走访日期", None, 11, True), ("备注", None, 14, True),
]


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_") or "网格"


def write_task_workbooks(conn: duckdb.DuckDBPyConnection, *, out_dir: Path, as_of: dt.date, home: Path,
                         dept: str | None, scope: str | None, user: str,
                         grids: list[str] | None = None) -> list[TaskWorkbook]:
    """One workbook per grid with open verification tasks within ``scope`` (a grid, community or street; the
    whole store when None), for ``dept`` under its grant of the verification-tasks extract. ``grids`` limits
    it further to those grid codes (the portal's choice). Each workbook's handout is recorded in ``home``'s database
    (pipelines/publish/audit.py); ``conn`` may be read-only."""
    reg = load_registry()
    spec = reg.extract(EXTRACT)
    grant = reg.grant(dept, EXTRACT, user)
    department = reg.department(dept) if dept is not None else None
    prepare(conn, as_of)
    where = resolve_scope(conn, department, scope)
    Store.run_sql(conn, f"reports/{spec.sql}", as_of=as_of)
    # the extract's columns only as far as the grant goes; the house's parts and the task's id are not personal
    extract_columns = {c.name for c in spec.columns}
    shown = [c for c in _LAYOUT if c[1] not in extract_columns or c[1] in grant.columns]
    m = grant.masking
    id_sql = masking.column_sql('x."公民身份号码"', "id", m)
    name_sql = masking.column_sql('x."姓名"', "name", m)
    params: list = []
    scope_sql = "TRUE"
    if where.level is not None:
        scope_sql = f"x._{where.level}_code = ?"
        params.append(where.code)
    if grids is not None:
        scope_sql += " AND list_contains(?, x._grid_code)"
        params.append(sorted(grids))
    # natural order of building, unit and room ("2" before "10"), then the code, so a rerun keeps the order
    natural = "try_cast(regexp_extract({0}, '\\d+') AS INTEGER) NULLS LAST, {0} NULLS LAST"
    cur = conn.execute(f"""
        SELECT x."网格编码", x."网格名称", coalesce(g.grid_worker, '{NO_WORKER}') AS worker,
               h.compound, h.building, h.unit, h.room, x."房屋编码", {name_sql} AS "姓名", {id_sql} AS "公民身份号码",
               x."最近在住证据日期", t.task_id, t.opened_on,
               CASE WHEN t.overdue THEN t.days - t.overdue_days END AS overdue_by, x."依据"
        FROM x_verification_tasks x
        JOIN marts.tasks t ON t.kind = 'verify' AND t.state = 'open' AND t.person_key = x."人员主键"
        LEFT JOIN marts.houses h ON h.house_code = x."房屋编码"
        LEFT JOIN marts.grids g ON g.microgrid_code = h.microgrid_code
        WHERE x."网格编码" IS NOT NULL AND {scope_sql}
        ORDER BY x."网格编码", worker, h.compound NULLS LAST, {natural.format('h.building')},
                 {natural.format('h.unit')}, {natural.format('h.room')}, x."房屋编码", x."人员主键"
    """, params)
    # an 依据 may quote an ID or a phone (a visit's 备注): scrubbed as every text of an output is
    rows = [{**r, "依据": masking.mask_text(r["依据"], m)} for r in dicts(cur)]

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    books: list[TaskWorkbook] = []
    by_grid: dict[str, list[dict]] = {}
    for r in rows:
        by_grid.setdefault(r["网格编码"], []).append(r)
    for code, grid_rows in by_grid.items():
        name = grid_rows[0]["网格名称"] or code
        path = out_dir / f"走访核查任务单_{_safe(name)}_{code}_{as_of.isoformat()}.xlsx"
        sheets = _write(path, name, code, grid_rows, shown, as_of)
        overdue = sum(r["overdue_by"] is not None for r in grid_rows)
        audit.record(home, kind="extract", name=AUDIT_NAME, department=dept, user=user, scope=f"grid:{code}",
                     as_of=as_of, fmt="xlsx", row_count=len(grid_rows), columns=[c[0] for c in shown], path=path,
                     sha256=audit.sha256_file(path))
        books.append(TaskWorkbook(code, name, path, len(grid_rows), overdue, sheets))
    return books


def _write(path: Path, grid_name: str, grid_code: str, rows: list[dict], shown, as_of: dt.date) -> tuple[str, ...]:
    font = print_font(size=10)
    bold = print_font(size=10, bold=True)
    title_font = print_font(size=15, bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wb = Workbook()
    wb.remove(wb.active)
    workers: dict[str, list[dict]] = {}
    for r in rows:
        workers.setdefault(r["worker"], []).append(r)
    used: list[str] = []
    for worker, mine in workers.items():
        title = re.sub(r"[\[\]:*?/\\]", "", worker)[:28] or "网格员"
        while title in used:
            title = title[:26] + str(len(used))
        used.append(title)
        ws = wb.create_sheet(title)
        last = get_column_letter(len(shown))
        overdue = sum(r["overdue_by"] is not None for r in mine)
        ws.append(["走访核查任务单"])
        ws.append([f"网格：{grid_name}（{grid_code}）　网格员：{worker}　统计截止日期：{as_of.isoformat()}　"
                   f"共 {len(mine)} 项" + (f"，其中逾期 {overdue} 项" if overdue else "")])
        ws.append([f"请逐户上门核实本人是否仍在此居住，在“走访结果”栏填写：{OUTCOMES}；"
                   "录入走访记录时填写房屋编码，备注写任务编号。"])
        ws.append([c[0] for c in shown])
        for i, r in enumerate(mine, start=1):
            ws.append([i if src == "_no" else (r.get(src) if src else None) for _, src, _, _ in shown])
        for row in (1, 2, 3):
            ws.merge_cells(f"A{row}:{last}{row}")
        ws["A1"].font, ws["A1"].alignment = title_font, Alignment(horizontal="center", vertical="center")
        ws.row_dimensions[1].height = 26
        for row in (2, 3):
            ws[f"A{row}"].font, ws[f"A{row}"].alignment = font, Alignment(vertical="center", wrap_text=True)
        ws.row_dimensions[3].height = 28
        ws.row_dimensions[HEADER_ROW].height = 30
        for j, (head, src, width, wraps) in enumerate(shown, start=1):
            letter = get_column_letter(j)
            sample = max((display_width(r.get(src)) for r in mine[:500]), default=0) if src and src != "_no" else 0
            ws.column_dimensions[letter].width = max(width, min(sample + 2, 40) if not wraps else width)
            head_cell = ws.cell(HEADER_ROW, j)
            head_cell.font, head_cell.alignment, head_cell.border, head_cell.fill = bold, center, _BORDER, _HEAD_FILL
            for r in range(HEADER_ROW + 1, HEADER_ROW + len(mine) + 1):
                cell = ws.cell(r, j)
                cell.font, cell.border = font, _BORDER
                cell.alignment = wrap if wraps else Alignment(vertical="center")
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        for r in range(HEADER_ROW + 1, HEADER_ROW + len(mine) + 1):
            ws.row_dimensions[r].height = 36          # room to write by hand
        print_setup(ws, HEADER_ROW, margin=0.3)
        ws.page_margins.top = ws.page_margins.bottom = 0.5
        ws.oddHeader.right.text = f"{grid_name}　{worker}"
        ws.oddFooter.right.text = "走访人签字：__________"
    wb.properties.creator = "onceonly"
    wb.properties.title = f"走访核查任务单 {grid_name}"
    wb.properties.created = as_of_stamp(as_of)
    wb.save(path)
    freeze_xlsx(path, as_of_stamp(as_of))
    return tuple(used)
