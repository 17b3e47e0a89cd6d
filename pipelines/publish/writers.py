"""File writers for extracts: CSV, XLSX, Parquet, each byte-for-byte reproducible for the same data.

- CSV: UTF-8 with BOM (Excel on Windows opens Chinese correctly only with it), LF line ends (Excel
  and WPS read them),
  quoted only when needed, dates ISO (2026-10-31), decimals with two places. The contract's CSV (``csv``) is
  for programs; ``csv-excel`` is the same table for a person who double-clicks it (:func:`spreadsheet_safe`).
- XLSX: openpyxl stamps "modified" with the wall clock and zip entries with the local time; the file
  is re-zipped with both fixed to the as-of date (:func:`freeze_xlsx`).
- Parquet: fixed writer settings (zstd, dictionary, statistics, no pandas metadata); the schema
  metadata carries the data dictionary.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.worksheet import Worksheet
from pipelines.publish.registry import PublishError
from openpyxl.styles import Border, Font, PatternFill, Side

XLSX_MAX_ROWS = 1_048_575
# The font every printable workbook names: the one Chinese offices print forms in, present wherever Excel or
# WPS runs. A machine without it (LibreOffice on Linux) substitutes by the GB2312 charset the cells also name.
PRINT_FONT = "宋体"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


class TooLargeForXlsx(PublishError):
    """More rows than one Excel sheet holds."""


def display_width(value) -> int:
    """Width in Excel character units: CJK characters count double."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def freeze_xlsx(path: Path, when: dt.datetime) -> None:
    """Rewrite an .xlsx so that nothing in it depends on the clock: core.xml dates and zip entry times."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{stamp}\g<2>", text)
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(max(when.year, 1980), when.month, when.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def print_font(**kw) -> Font:
    """The print font; GB2312 charset, so an office without 宋体 substitutes a Chinese face, not a Western one."""
    return Font(name=PRINT_FONT, charset=134, **{"size": 11, **kw})


def print_workbook() -> Workbook:
    """A write-only workbook whose default font is the print font, also for cells without a style of their own
    (an extract's values): openpyxl has no public setting for it, so its font list and Normal style are replaced."""
    wb = Workbook(write_only=True)
    font = print_font()
    wb._fonts = IndexedList([font])
    wb._named_styles["Normal"].font = font
    return wb


# 数据字典 types as a clerk reads them (the store's SQL types stay in Parquet's own schema)
CHINESE_TYPES = {"VARCHAR": "文本", "DATE": "日期（年-月-日）", "BIGINT": "整数", "INTEGER": "整数",
                 "BOOLEAN": "是/否", "DOUBLE": "数值"}


def chinese_type(sql_type: str) -> str:
    if sql_type.startswith("DECIMAL"):
        return "金额（元，两位小数）"
    return CHINESE_TYPES.get(sql_type, sql_type)


def print_setup(ws, header_row: int, *, margin: float = 0.4) -> None:
    """A sheet that prints on A4 landscape, fitted to the page width, its header row frozen and repeated on every
    page, pages numbered in the footer (reports and the printable task lists)."""
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = margin
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def as_of_stamp(as_of: dt.date) -> dt.datetime:
    return dt.datetime(as_of.year, as_of.month, as_of.day)


# Rows per Parquet row group, fixed so the file does not depend on how the rows arrived.
PARQUET_ROW_GROUP = 1 << 20

Rows = pa.Table | pa.RecordBatchReader


def _batches(rows: Rows):
    return rows.to_batches() if isinstance(rows, pa.Table) else rows


# Excel, WPS and LibreOffice type every field of a CSV opened by double-click: an 18-digit ID becomes
# 5.10107193811282E+17 (its last digits lost) while one ending in X stays text, 网格编码 0101 becomes 101, a phone
# a number, 3-2 a date; quoting the field does not help. A field written as the formula ="0101" is the text 0101
# in all three. Only text a spreadsheet would retype is written so: digits with number or date punctuation,
# TRUE/FALSE, and anything starting = + - @ (which a spreadsheet would run as a formula: CSV injection). Excel
# refuses a formula's text over 255 characters; such a value starting with = + - @ gets a leading ' instead.
_RETYPED = r"(?s)^(?:[=+\-@].*|[0-9.,:/ +\-eE%]*[0-9][0-9.,:/ +\-eE%Xx]*|(?i:true|false))$"
_FORMULA_TEXT_MAX = 255


def spreadsheet_safe(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with every text value a spreadsheet would retype written as ="…" (see _RETYPED)."""
    columns = []
    for col in batch.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            retyped = pc.fill_null(pc.match_substring_regex(col, _RETYPED), False)
            if not pc.any(retyped).as_py():
                columns.append(col)      # names, addresses: nothing to rewrite, and nothing else to compute
                continue
            short = pc.less_equal(pc.utf8_length(col), _FORMULA_TEXT_MAX)
            quoted = pc.binary_join_element_wise('="', pc.replace_substring(col, '"', '""'), '"', "")
            col = pc.if_else(pc.and_(retyped, short), quoted,
                             pc.if_else(retyped, pc.binary_join_element_wise("'", col, ""), col))
        columns.append(col)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def write_csv(rows: Rows, out: Path, *, for_spreadsheet: bool = False) -> int:
    """Write a table, or a stream of record batches (a city's extract never sits in memory whole);
    returns the number of rows written. ``for_spreadsheet``: text a spreadsheet would retype is written
    as ="…" (:func:`spreadsheet_safe`), for a person who opens the file by double-click."""
    n = 0
    with open(out, "wb") as f:
        f.write("\ufeff".encode("utf-8"))
        with pacsv.CSVWriter(f, rows.schema, write_options=pacsv.WriteOptions(
                include_header=True, delimiter=",", quoting_style="needed")) as writer:
            for batch in _batches(rows):
                writer.write_batch(spreadsheet_safe(batch) if for_spreadsheet else batch)
                n += batch.num_rows
    return n


def write_parquet(rows: Rows, out: Path, dictionary: Sequence[dict]) -> int:
    """Like write_csv; row groups of PARQUET_ROW_GROUP rows whatever the batches' sizes."""
    meta = {f"onceonly.{d['列名']}".encode(): f"{d['类型']}；{d['说明']}；脱敏：{d['脱敏']}".encode()
            for d in dictionary}
    schema = rows.schema.with_metadata(meta)
    n = 0
    pending: list[pa.RecordBatch] = []
    with pq.ParquetWriter(out, schema, compression="zstd", use_dictionary=True, write_statistics=True,
                          version="2.6", data_page_version="1.0", store_schema=False) as writer:
        def flush(final: bool) -> list[pa.RecordBatch]:
            table = pa.Table.from_batches(pending, schema=schema)
            while table.num_rows >= PARQUET_ROW_GROUP or (final and table.num_rows):
                writer.write_table(table.slice(0, PARQUET_ROW_GROUP), row_group_size=PARQUET_ROW_GROUP)
                table = table.slice(PARQUET_ROW_GROUP)
            return table.to_batches()
        buffered = 0
        for batch in _batches(rows):
            pending.append(batch.replace_schema_metadata(meta))
            n += batch.num_rows
            buffered += batch.num_rows
            if buffered >= PARQUET_ROW_GROUP:
                pending = flush(False)
                buffered = sum(b.num_rows for b in pending)
        flush(True)   # the rest; with no rows at all the file still carries the schema
    return n


def write_dictionary_csv(out: Path, dictionary: Sequence[dict], info: Sequence[tuple[str, str]]) -> None:
    """Sidecar for CSV/Parquet: the same 数据字典 as the XLSX sheet (columns, then the facts of the file)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["列名", "类型", "说明", "脱敏"])
    for d in dictionary:
        w.writerow([d["列名"], d["类型"], d["说明"], d["脱敏"]])
    w.writerow([])
    for k, v in info:
        w.writerow([k, v])
    out.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


def _excel_value(v):
    if isinstance(v, dt.datetime):
        return v.date()
    return float(v) if v.__class__.__name__ == "Decimal" else v


def write_extract_xlsx(table: pa.Table, out: Path, *, title: str, dictionary: Sequence[dict],
                       info: Sequence[tuple[str, str]], types: Sequence[str], as_of: dt.date) -> None:
    if table.num_rows > XLSX_MAX_ROWS:
        raise TooLargeForXlsx(f"共 {table.num_rows} 行，超过 Excel 单表上限 {XLSX_MAX_ROWS} 行，请改用 csv 或 parquet 格式。")
    wb = print_workbook()
    ws = wb.create_sheet(title[:31])
    names = table.column_names
    widths = [display_width(n) for n in names]
    columns = [table.column(i).to_pylist() for i in range(len(names))]
    for i, col in enumerate(columns):
        for v in col[:2000]:     # a sample is enough to size a column
            widths[i] = max(widths[i], display_width(v))
    from openpyxl.utils import get_column_letter
    for i, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(w + 2, 8), 60)
    print_setup(ws, 1)      # header repeated on every page, fitted to the page width, pages numbered
    header = []
    for n in names:
        c = WriteOnlyCell(ws, value=n)
        c.font, c.fill, c.border = print_font(bold=True), HEADER_FILL, BORDER
        header.append(c)
    ws.append(header)
    formats = ["yyyy-mm-dd" if t == "DATE" else ("0.00" if t.startswith("DECIMAL") else None) for t in types]
    # Text columns are written as text so codes keep leading zeros; Excel shows them as typed.
    for r in range(table.num_rows):
        row = []
        for i in range(len(names)):
            v = _excel_value(columns[i][r])
            if formats[i] and v is not None:
                c = WriteOnlyCell(ws, value=v)
                c.number_format = formats[i]
                row.append(c)
            else:
                row.append(v)
        ws.append(row)
    ds = wb.create_sheet("数据字典")
    print_setup(ds, 1)
    ds.column_dimensions["A"].width = 18
    ds.column_dimensions["B"].width = 16
    ds.column_dimensions["C"].width = 60
    ds.column_dimensions["D"].width = 12
    hdr = []
    for n in ("列名", "类型", "说明", "脱敏"):
        c = WriteOnlyCell(ds, value=n)
        c.font, c.fill = print_font(bold=True), HEADER_FILL
        hdr.append(c)
    ds.append(hdr)
    for d in dictionary:
        ds.append([d["列名"], d["类型"], d["说明"], d["脱敏"]])
    ds.append([])
    for k, v in info:
        ds.append([k, v])
    wb.properties.creator = "onceonly"
    wb.properties.created = as_of_stamp(as_of)
    wb.save(out)
    freeze_xlsx(out, as_of_stamp(as_of))

