"""CSV for a person who double-clicks it (``csv-excel``, and the person lists beside reports): opened the way a
spreadsheet opens it (LibreOffice, every column typed "Standard"), every ID, code and phone reads as it was
written. The contract's plain ``csv`` stays byte-plain for programs — and is shown to break the same way."""
from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pyarrow as pa
import pytest

from pipelines.publish import load_registry, write_extract
from pipelines.publish.writers import write_csv
from pipelines.store import Store
from tests.office import CSV_AS_OPENED, convert

AS_OF = dt.date(2026, 10, 31)
# extract, department: between them full IDs (ending in digits and in X), phones, grid/house/division codes,
# batch ids, row numbers and 记录编号
CASES = [("floating-population", "公安"), ("grid-population", "街道办"), ("person-sources", "公安"),
         ("verification-tasks", "街道办"), ("assistance-check", "民政")]


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def opened(xlsx):
    """The cells as the spreadsheet shows them (LibreOffice stores each formula's value beside it)."""
    ws = openpyxl.load_workbook(xlsx, data_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def extracts(demo_outputs_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("sheet-csv")
    files = {}
    with Store(demo_outputs_home / "store.duckdb").connect(read_only=True) as conn:
        for name, dept in CASES:
            for fmt in ("csv", "csv-excel"):
                path = out / f"{name}.{fmt}.csv"
                write_extract(conn, name, fmt=fmt, out=path, dept=dept, scope=None, as_of=AS_OF, user="t", home=out)
                files[name, fmt] = path
    sheets = convert([files[n, "csv-excel"] for n, _ in CASES] + [files["floating-population", "csv"]],
                     "xlsx", out / "opened", infilter=CSV_AS_OPENED)
    return files, dict(zip([n for n, _ in CASES] + ["plain"], sheets))


@pytest.mark.parametrize("name", [n for n, _ in CASES])
def test_every_text_value_survives_a_double_click(extracts, name):
    files, sheets = extracts
    header, rows = read_csv(files[name, "csv"])
    assert rows, name
    sheet_header, cells = opened(sheets[name])
    assert sheet_header == header and len(cells) == len(rows)
    spec = load_registry().extract(name)
    text = [i for i, h in enumerate(header) if spec.column(h).type == "VARCHAR"]
    for row, cell in zip(rows, cells):
        for i in text:
            assert (cell[i] if cell[i] is not None else "") == row[i], (name, header[i], row[i], cell[i])
    if name == "floating-population":       # the grant shows IDs and phones in full
        ids = [r[header.index("公民身份号码")] for r in rows]
        assert sum(len(v) == 18 and v.isdigit() for v in ids) > 100 and any(v.endswith("X") for v in ids)
        assert sum(len(r[header.index("联系电话")]) == 11 for r in rows) > 100


def test_the_plain_csv_stays_plain_and_is_what_a_spreadsheet_breaks(extracts):
    files, sheets = extracts
    plain = files["floating-population", "csv"].read_text(encoding="utf-8-sig")
    assert '="' not in plain
    header, rows = read_csv(files["floating-population", "csv"])
    _, cells = opened(sheets["plain"])
    i = header.index("公民身份号码")
    broken = [c[i] for r, c in zip(rows, cells) if r[i].isdigit()]
    assert broken and all(isinstance(v, float) for v in broken)     # 5.10107193811282E+17: the last digits lost
    sidecar = files["floating-population", "csv-excel"].with_name("floating-population.csv-excel.csv.数据字典.csv")
    assert "供 Excel、WPS 双击打开" in sidecar.read_text(encoding="utf-8-sig")


def test_values_a_spreadsheet_would_retype_or_run(tmp_path):
    values = ["0101", "510104199001010019", "51010419900101001X", "13812345678", "028-86661234", "3-2-501",
              "1/2", "1E5", "12:30", "50%", "TRUE", "=1+1", "+86 138", "@SUM(A1)", '-2+3', "张三", "草堂路1号",
              "510104********0019", "138****1234", "", None]
    table = pa.table({"值": values, "序号": list(range(len(values)))})
    path = tmp_path / "edge.csv"
    write_csv(table, path, for_spreadsheet=True)
    (sheet,) = convert([path], "xlsx", tmp_path / "opened", infilter=CSV_AS_OPENED)
    _, cells = opened(sheet)
    assert [c[0] if c[0] is not None else None for c in cells] == [v or None for v in values]
    assert [c[1] for c in cells] == list(range(len(values)))       # numbers stay numbers


def test_person_lists_beside_reports_survive_a_double_click(demo_world, tmp_path):
    reports = demo_world["home"] / "reports" / "2026-10-31"
    lists = sorted(reports.glob("*-*.csv"))
    assert len(lists) >= 8
    sheets = convert(lists, "xlsx", tmp_path, infilter=CSV_AS_OPENED)
    checked = set()
    for path, sheet in zip(lists, sheets):
        header, rows = read_csv(path)
        _, cells = opened(sheet)
        assert len(cells) == len(rows), path.name
        for col in ("公民身份号码", "联系电话", "网格编码", "房屋编码"):
            if col in header:
                i = header.index(col)
                for r, c in zip(rows, cells):
                    want = r[i][2:-1] if r[i].startswith('="') else r[i]
                    assert (c[i] or "") == want, (path.name, col, r[i], c[i])     # text, not a number
                checked.add(col)
    assert {"公民身份号码", "联系电话"} <= checked
