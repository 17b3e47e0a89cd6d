"""Report files: XLSX (openpyxl, print-ready) and HTML (jinja2 templates in reports/templates)."""
from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipelines.paths import REPORTS_DIR
from pipelines.publish.writers import as_of_stamp, display_width, freeze_xlsx
from pipelines.reports.model import Report

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
HEADER_ROW = 4


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(REPORTS_DIR / "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), keep_trailing_newline=True)
    env.filters["cell"] = _text
    return env


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "表"
    name, n = clean, 2
    while name in used:
        name, n = f"{clean[:26]}{n}", n + 1
    used.add(name)
    return name


def write_xlsx(report: Report, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for section in report.sections:
        ws = wb.create_sheet(_sheet_title(section.title, used))
        ncol = len(section.columns)
        last = get_column_letter(ncol)
        title = report.title if len(report.sections) == 1 else f"{report.title}——{section.title}"
        ws["A1"] = title
        ws["A1"].font = Font(bold=True, size=16)
        ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
        ws.merge_cells(f"A1:{last}1")
        ws.row_dimensions[1].height = 28
        ws["A2"] = f"填报单位：{report.unit}"
        ws.merge_cells(f"A2:{last}2")
        line3 = f"统计截止日期：{report.as_of_cn}"
        if report.period_cn:
            line3 += f"　　统计期间：{report.period_cn}"
        ws["A3"] = line3
        ws.merge_cells(f"A3:{last}3")
        widths = [display_width(c.name) for c in section.columns]
        for j, col in enumerate(section.columns, start=1):
            cell = ws.cell(row=HEADER_ROW, column=j, value=col.name)
            cell.font, cell.fill, cell.border = Font(bold=True), _HEAD_FILL, _BORDER
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        r = HEADER_ROW
        total = section.total_row()
        body = [(row, False) for row in section.rows] + ([(total, True)] if total else [])
        for row, is_total in body:
            r += 1
            for j, col in enumerate(section.columns, start=1):
                value = report.shown(row[j - 1], col)
                if isinstance(value, decimal.Decimal):
                    value = float(value)
                cell = ws.cell(row=r, column=j, value=value)
                cell.border = _BORDER
                if col.kind == "money":
                    cell.number_format = "#,##0.00"
                elif col.kind == "date":
                    cell.number_format = "yyyy-mm-dd"
                if col.kind in ("count", "money"):
                    cell.alignment = Alignment(horizontal="right")
                if is_total:
                    cell.font, cell.fill = Font(bold=True), _TOTAL_FILL
                widths[j - 1] = max(widths[j - 1], display_width(_text(value)))
        if total and ncol > 1 and all(c.kind not in ("count", "money") for c in section.columns):
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        r += 2
        notes = ([section.note] if section.note else []) + report.quality
        if report.publication:
            notes.append(f"为保护个人信息，小于{report.small_count}的人数显示为“<{report.small_count}”（合计按实际人数计算）。")
        ws.cell(row=r, column=1, value="数据质量说明：").font = Font(bold=True)
        for line in notes:
            r += 1
            ws.cell(row=r, column=1, value=f"· {line}").alignment = Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=max(ncol, 1))
            ws.row_dimensions[r].height = 15 * max(1, display_width(line) // max(sum(widths), 40) + 1)
        r += 1
        ws.cell(row=r, column=1, value="制表：onceonly（由统一数据库按统计截止日期生成，可按同一日期复现）")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=max(ncol, 1))
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 6), 50)
        ws.freeze_panes = f"A{HEADER_ROW + 1}"
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    wb.properties.creator = "onceonly"
    wb.properties.title = report.title
    wb.properties.created = as_of_stamp(report.as_of)
    wb.save(path)
    freeze_xlsx(path, as_of_stamp(report.as_of))
    return path


def write_html(report: Report, path: Path) -> Path:
    sections = []
    for s in report.sections:
        rows = [[report.shown(v, c) for v, c in zip(row, s.columns)] for row in s.rows]
        total = s.total_row()
        sections.append({"title": s.title, "columns": s.columns, "rows": rows, "note": s.note,
                         "total": [report.shown(v, c) for v, c in zip(total, s.columns)] if total else None})
    html = _env().get_template("report.html.j2").render(report=report, sections=sections)
    path.write_text(html, encoding="utf-8")
    return path


def write_index(path: Path, *, as_of: dt.date, unit: str, entries: list[dict], batches: list[dict]) -> Path:
    html = _env().get_template("index.html.j2").render(as_of=as_of, unit=unit, entries=entries, batches=batches)
    path.write_text(html, encoding="utf-8")
    return path
