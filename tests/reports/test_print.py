"""Every report workbook and extract workbook as it prints (LibreOffice → PDF): no page holds only the repeated
header row and notes, the last rows stay with their 合计, a short extract prints on one page, the font is named,
units and the sign-off block are there, the 数据字典 speaks Chinese. The pages were also looked at (PNG) when the
layout was made: docs/architecture.md, "Printing"."""
from __future__ import annotations

import datetime as dt
import math
import shutil

import openpyxl
import pytest

from pipelines.publish import write_extract
from pipelines.reports.model import SIGN_OFF
from pipelines.reports.run_report import XLSX_NAME
from pipelines.store import Store
from tests.office import convert, pages_with_images, pdf_pages

AS_OF = dt.date(2026, 10, 31)
REPORT_HEADER_ROW = 4
# extract, department, scope: a whole street, the police's long list, and a community's few grids
EXTRACTS = [("grid-population", "街道办", None), ("floating-population", "公安", None),
            ("grid-population", "社区", "芳草社区"), ("verification-tasks", "街道办", None)]


def first_cells(xlsx, header_row: int) -> tuple[set[str], int]:
    """The text a data row starts with, of every sheet (合计 too), and the number of data rows."""
    starts, n = {"合计"}, 0
    for ws in openpyxl.load_workbook(xlsx).worksheets:
        for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
            if all(v is None for v in row):
                break
            n += 1
            first = next(v for v in row if v is not None)
            starts.add(first.isoformat() if isinstance(first, dt.date) else str(first))
    return starts, n


def empty_pages(xlsx, pdf, header_row: int) -> list[int]:
    """Pages on which no line starts with a data row's first cell and no picture is printed."""
    starts, _ = first_cells(xlsx, header_row)
    images = pages_with_images(pdf)
    out = []
    for i, page in enumerate(pdf_pages(pdf), start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if i not in images and not any(line.split()[0] in starts or line.startswith("合计") for line in lines):
            out.append(i)
    return out


@pytest.fixture(scope="module")
def printed(demo_world, demo_outputs_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    # the department reports (the run report beside them is a run's record, not a form sent up)
    books = sorted(p for p in (demo_world["home"] / "reports" / "2026-10-31").glob("*.xlsx") if p.name != XLSX_NAME)
    assert len(books) == 11
    for b in books:
        shutil.copy(b, out / b.name)
    extracts = []
    with Store(demo_outputs_home / "store.duckdb").connect(read_only=True) as conn:
        for name, dept, scope in EXTRACTS:
            path = out / f"extract-{name}-{dept}.xlsx"
            r = write_extract(conn, name, fmt="xlsx", out=path, dept=dept, scope=scope, as_of=AS_OF, user="t", home=out)
            extracts.append((path, r.rows))
    reports = [out / b.name for b in books]
    pdfs = convert(reports + [p for p, _ in extracts], "pdf", out / "pdf")
    return dict(zip(reports, pdfs[:len(reports)])), {p: (pdf, n) for (p, n), pdf in zip(extracts, pdfs[len(reports):])}


def test_no_report_page_is_only_headers_or_notes(printed):
    reports, _ = printed
    bad = {x.name: empty_pages(x, pdf, REPORT_HEADER_ROW) for x, pdf in reports.items()}
    assert not {k: v for k, v in bad.items() if v}, bad


def test_report_page_counts_follow_their_rows(printed):
    reports, _ = printed
    for xlsx, pdf in reports.items():
        sheets = len(openpyxl.load_workbook(xlsx).worksheets)
        _, rows = first_cells(xlsx, REPORT_HEADER_ROW)
        pages = len(pdf_pages(pdf))
        # a sheet's title, notes and sign-off take about half a page; a page holds 20 rows or more
        assert sheets <= pages <= sheets + math.ceil(rows / 20) + 1, (xlsx.name, pages, sheets, rows)


def test_report_sheets_name_the_font_units_and_sign_off(printed):
    reports, _ = printed
    for xlsx in reports:
        for ws in openpyxl.load_workbook(xlsx).worksheets:
            assert ws["A1"].font.name == "宋体" and ws["A5"].font.name == "宋体", (xlsx.name, ws.title)
            assert "单位：" in ws["A3"].value, (xlsx.name, ws.title, ws["A3"].value)
            assert SIGN_OFF in [c.value for c in ws["A"]], (xlsx.name, ws.title)
    text = "".join(pdf_pages(reports[next(x for x in reports if x.name == "population-monthly.xlsx")]))
    assert "单位负责人" in text and "报出日期" in text and "单位：人" in text


def test_extracts_print_with_their_header_on_every_page_fitted_to_width(printed):
    _, extracts = printed
    for xlsx, (pdf, rows) in extracts.items():
        wb = openpyxl.load_workbook(xlsx)
        data, dictionary = wb.worksheets
        header = [c.value for c in data[1]]
        assert data.print_title_rows in ("1:1", "$1:$1") and data.page_setup.fitToWidth == 1
        pages = pdf_pages(pdf)
        assert not empty_pages(xlsx, pdf, 1), xlsx.name
        data_pages = len(pages) - 1             # the 数据字典 prints on one page
        assert data_pages <= math.ceil(rows / 20) + 1, (xlsx.name, rows, len(pages))
        if rows <= 10:
            assert data_pages == 1, (xlsx.name, rows, len(pages))
        for page in pages[:data_pages]:         # the header row is on every page
            assert header[0] in page and header[-1] in page, xlsx.name
        types = {r[1] for r in dictionary.iter_rows(min_row=2, values_only=True) if r[0] and r[1]}
        assert types and not types & {"VARCHAR", "BIGINT", "INTEGER", "DATE"}, types
        assert "文本" in types


def test_html_reports_carry_units_and_the_sign_off_too(demo_world):
    page = (demo_world["home"] / "reports" / "2026-10-31" / "population-monthly.html").read_text(encoding="utf-8")
    assert '<div class="units">单位：人' in page and SIGN_OFF in page
