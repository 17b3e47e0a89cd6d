"""Report files: XLSX (openpyxl, print-ready) and HTML (jinja2 templates in reports/templates)."""
from __future__ import annotations

import datetime as dt
import decimal
from functools import lru_cache
from pathlib import Path

import jinja2
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from pipelines.paths import REPORTS_DIR
from pipelines.publish.writers import (as_of_stamp, display_width, freeze_xlsx, print_font, print_setup,
                                      write_csv)
from pipelines.reports import paging, sdc
from pipelines.reports.model import NUMERIC, SIGN_OFF, ListFile, Report

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
# a withheld cell: empty, hatched, with a comment (a number column must not hold text such as "<5")
_WITHHELD_FILL = PatternFill("lightUp", fgColor="A6A6A6", bgColor="FFFFFF")
_STYLE = {"count": "rp_count", "number": "rp_count", "measure": "rp_count", "money": "rp_money", "date": "rp_date"}
HEADER_ROW = 4
_MIN_PAGE_WIDTH = 110     # Excel character units: about an A4 landscape line at the default font
_CHART_WIDTH_PX = 900


@lru_cache(maxsize=1)
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


def _styles() -> list[NamedStyle]:
    """One named style per cell role: cells then carry a style id instead of their own font/border/fill
    objects, which is what keeps a long sheet fast to write (openpyxl write-only mode)."""
    def style(name, *, bold=False, size=None, fill=None, border=True, fmt=None, align=None):
        st = NamedStyle(name=name)
        st.font = print_font(bold=bold, size=size or 11)
        if fill is not None:
            st.fill = fill
        if border:
            st.border = _BORDER
        if fmt:
            st.number_format = fmt
        if align is not None:
            st.alignment = align
        return st
    right = Alignment(horizontal="right")
    out = [
        style("rp_title", bold=True, size=16, border=False, align=Alignment(horizontal="center", vertical="center")),
        style("rp_plain", border=False),
        style("rp_bold", bold=True, border=False),
        style("rp_note", border=False, size=NOTE_PT, align=Alignment(wrap_text=True, vertical="top")),
        style("rp_signoff", border=False, align=Alignment(vertical="bottom")),
        style("rp_head", bold=True, fill=_HEAD_FILL,
              align=Alignment(horizontal="center", vertical="center", wrap_text=True)),
    ]
    for total in (False, True):
        suffix = "_total" if total else ""
        fill = _TOTAL_FILL if total else None
        out += [style(f"rp_withheld{suffix}", bold=total, fill=_WITHHELD_FILL, align=right)]
        out += [style(f"rp_text{suffix}", bold=total, fill=fill),
                style(f"rp_count{suffix}", bold=total, fill=fill, align=right),
                style(f"rp_money{suffix}", bold=total, fill=fill, fmt="#,##0.00", align=right),
                style(f"rp_date{suffix}", bold=total, fill=fill, fmt="yyyy-mm-dd")]
    return out


class _Cells:
    """Write-only cells with a named style. The style's array is resolved once per sheet and shared:
    assigning a named style per cell costs more than writing the cell."""

    def __init__(self, ws):
        self.ws = ws
        self.arrays: dict[str, object] = {}

    def __call__(self, value, style: str) -> WriteOnlyCell:
        arr = self.arrays.get(style)
        if arr is None:
            tmpl = WriteOnlyCell(self.ws)
            tmpl.style = style
            arr = self.arrays[style] = tmpl._style
        c = WriteOnlyCell(self.ws, value=value)
        c._style = arr      # read-only from here on: the cell is serialised on append and dropped
        return c


ROW_PT = 16             # every row's height is set, so the pages fall where paging.plan puts them
NOTE_PT = 9             # notes in small type, as a form's 说明 are
NOTE_LINE_PT = 12.5


def write_xlsx(report: Report, path: Path) -> Path:
    # the Normal style keeps openpyxl's default font: it is the unit of column widths, and a 宋体 that LibreOffice
    # must substitute would widen every column there and shrink the fitted page (every cell names 宋体 itself)
    wb = Workbook(write_only=True)
    for st in _styles():
        wb.add_named_style(st)
    used: set[str] = set()
    rule = sdc.rule()
    for si, section in enumerate(report.sections):
        ws = wb.create_sheet(_sheet_title(section.title, used))
        _cell = _Cells(ws)
        ncol = len(section.columns)
        last = get_column_letter(ncol)
        title = report.title if len(report.sections) == 1 else f"{report.title}——{section.title}"
        line3 = f"统计截止日期：{report.as_of_cn}"
        if report.period_cn:
            line3 += f"　　统计期间：{report.period_cn}"
        if section.units:
            line3 += f"　　{section.units}"
        body, total = report.published(si)
        withheld = report.withheld(si)
        def published(row):
            return tuple(float(v) if isinstance(v, decimal.Decimal) else v for v in row)
        shown = [published(row) for row in body]
        total_shown = published(total) if total else None
        # widths need every value before the first row is streamed; a sample sizes a long list well enough
        widths = [display_width(c.name) for c in section.columns]
        for row in shown[:2000] + ([total_shown] if total_shown else []):
            for j, v in enumerate(row):
                widths[j] = max(widths[j], display_width(_text(v)))
        widths = [min(max(w + 2, 6), 50) for w in widths]
        if sum(widths) < _MIN_PAGE_WIDTH:
            # a narrow table still has the full title lines and notes to show: widen it to the page
            widths = [w * _MIN_PAGE_WIDTH / sum(widths) for w in widths]
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = round(w, 1)
        print_setup(ws, HEADER_ROW)
        body_styles = [_STYLE.get(c.kind, "rp_text") for c in section.columns]

        def cells(ri: int, row, total: bool = False):
            out = []
            for ci, (v, st) in enumerate(zip(row, body_styles)):
                if (ri, ci) in withheld:
                    # numeric-empty: the column still sums; the marker is the fill and a comment
                    c = _cell(None, "rp_withheld_total" if total else "rp_withheld")
                    c.comment = Comment(f"{rule.marker} 不公布（统计披露控制）", "onceonly", width=160, height=40)
                    out.append(c)
                else:
                    out.append(_cell(v, st + "_total" if total else st))
            return out

        # every row of the sheet with its height, laid out first so the page breaks can be planned
        line_chars = max(sum(widths) * 0.9 * 11 / NOTE_PT, 40)
        header_lines = max(-(-display_width(c.name) // max(int(w) - 1, 1)) for c, w in zip(section.columns, widths))
        rows: list[tuple[list, float, bool]] = [          # (cells, height in points, merged across)
            ([_cell(title, "rp_title")], 28, True),
            ([_cell(f"填报单位：{report.unit}", "rp_plain")], ROW_PT, True),
            ([_cell(line3, "rp_plain")], ROW_PT, True),
            ([_cell(c.name, "rp_head") for c in section.columns], ROW_PT * max(header_lines, 1), False),
        ]
        rows += [(cells(ri, row), ROW_PT, False) for ri, row in enumerate(shown)]
        if total_shown:
            rows.append((cells(len(shown), total_shown, total=True), ROW_PT,
                         ncol > 1 and all(c.kind not in NUMERIC for c in section.columns)))
        data_rows = set(range(HEADER_ROW + 1, len(rows) + 1))
        rows.append(([], ROW_PT / 2, False))
        notes = ([section.note] if section.note else []) + [_run_report_named(line, report) for line in report.quality]
        if report.hidden:
            notes.append(rule.note)
        rows.append(([_cell("数据质量说明：", "rp_bold")], ROW_PT, False))
        for line in notes:
            lines = int(display_width(f"· {line}") // line_chars) + 1
            rows.append(([_cell(f"· {line}", "rp_note")], NOTE_LINE_PT * lines + 2, True))
        rows.append(([_cell(SIGN_OFF, "rp_signoff")], ROW_PT * 1.75, True))
        rows.append(([_cell("制表：onceonly（由统一数据库按统计截止日期生成，可按同一日期复现）", "rp_plain")], ROW_PT, True))
        picture = None
        if section.chart is not None:
            # the chart prints on a page of its own under a caption naming the table it draws
            rows.append(([], ROW_PT / 2, False))
            rows.append(([_cell(f"图：{title}", "rp_bold")], ROW_PT * 1.5, True))
        heights = [h for _, h, _ in rows]
        if section.chart is not None:
            heights.append(_CHART_WIDTH_PX * section.chart.height_px / section.chart.width_px * 0.75)
            picture = len(heights)
        layout = paging.plan(widths, heights, header_row=HEADER_ROW, data_rows=data_rows, picture=picture)
        if layout.fit_height:
            ws.page_setup.fitToHeight = layout.fit_height
        for b in layout.breaks:
            ws.row_breaks.append(Break(id=b - 1))      # a break after row id: the page starts at row b

        for r, (row_cells, height, merged) in enumerate(rows, start=1):
            ws.row_dimensions[r].height = round(height, 1)
            ws.append(row_cells)
            if merged:
                ws.merged_cells.add(f"A{r}:{last}{r}")
        if picture is not None:
            _add_chart(ws, section.chart, f"A{picture}")
    wb.properties.creator = "onceonly"
    wb.properties.title = report.title
    wb.properties.created = as_of_stamp(report.as_of)
    wb.save(path)
    freeze_xlsx(path, as_of_stamp(report.as_of))
    return path


def _add_chart(ws, chart, anchor: str) -> None:
    """The chart's PNG below the sheet's last line, about 20 cm wide (the page is fitted to its width)."""
    import io

    from openpyxl.drawing.image import Image

    img = Image(io.BytesIO(chart.png))
    img.width, img.height = _CHART_WIDTH_PX, round(_CHART_WIDTH_PX * chart.height_px / chart.width_px)
    ws.add_image(img, anchor)


def _run_report_named(line: str, report: Report) -> str:
    """A workbook has no link: the note names the run report's file instead."""
    from pipelines.reports.run_report import named

    return named(line, report.run_report) if report.run_report else line


def write_list_csv(lst: ListFile, path: Path) -> Path:
    """A person list is for a clerk, who opens it by double-click: codes and phones written as ="…"."""
    write_csv(lst.table, path, for_spreadsheet=True)
    return path


def write_html(report: Report, path: Path) -> Path:
    sections = []
    for si, s in enumerate(report.sections):
        rows, total = report.published(si)
        withheld = report.withheld(si)
        sections.append({"title": s.title, "columns": s.columns, "rows": rows, "note": s.note, "chart": s.chart,
                         "total": total, "units": s.units,
                         "withheld": withheld, "total_row": len(rows)})
    from pipelines.reports.run_report import NOTE_REF

    rule = sdc.rule()
    html = _env().get_template("report.html.j2").render(report=report, sections=sections, numeric=NUMERIC,
                                                        marker=rule.marker, sdc_note=rule.note, sign_off=SIGN_OFF,
                                                        note_ref=NOTE_REF)
    path.write_text(html, encoding="utf-8")
    return path


def write_index(path: Path, *, as_of: dt.date, unit: str, entries: list[dict], batches: list[dict],
                run_report: dict | None = None) -> Path:
    html = _env().get_template("index.html.j2").render(as_of=as_of, unit=unit, entries=entries, batches=batches,
                                                       run_report=run_report)
    path.write_text(html, encoding="utf-8")
    return path
