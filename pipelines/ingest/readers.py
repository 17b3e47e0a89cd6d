"""Read one inbox file into a grid of text cells, as a clerk sees it in a spreadsheet.

Every cell is text. For a workbook the reader also notes which cells were not plain text
(`type_ci`: number, date, a formula without a saved result, an error value such as #N/A),
because an 18-digit ID typed into a number cell has already lost its last digits in Excel,
and an empty-looking formula cell is not an empty cell: both must be refused, not trusted.

A CSV is split into records by polars when that is provably the same as reading it record by
record (no quote out of place, no row wider than the first, no value spanning lines); else
by the csv module, one record at a time, so that a broken quote or an extra field costs its
own row and never the file (`_careful_records`).

What cannot be read at all raises UnreadableFile with a sentence for the clerk: what the file
is, and how to turn it into one that can be read. Library text never reaches that sentence
(it is kept in ``detail`` for the Dagster event log).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import fastexcel
import polars as pl

# Title rows allowed above the header row (contract §1: up to 5).
MAX_TITLE_ROWS = 5
CSV_SUFFIXES = (".csv",)
# Everything calamine reads as a workbook: .xls is what many offices still send.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
INBOX_SUFFIXES = CSV_SUFFIXES + WORKBOOK_SUFFIXES
# cells["_row"] of a CSV record whose quotes do not pair up (its text is in cells["_text"]).
ROW_QUOTE_BROKEN = "quote_broken"
# Excel's error values, as calamine names them and as Excel shows them.
_EXCEL_ERRORS = {"Div0": "#DIV/0!", "NA": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!",
                 "Ref": "#REF!", "Value": "#VALUE!", "GettingData": "#GETTING_DATA"}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


@dataclass
class Grid:
    """The cells of a file, one row per sheet row (CSV: per record).

    ``cells`` holds row_no (the row number a clerk sees), the text columns c0..cN and, for a
    workbook, for every ci: ``type_ci`` ('number' / 'date' / 'formula' / 'error' / null for text)
    and ``serial_ci`` (the cell read as an Excel date, used when a date field holds a bare serial
    number). A CSV read record by record may add ``_row`` (ROW_QUOTE_BROKEN) and ``_text`` (that
    record's text as it stands in the file).
    """

    cells: pl.DataFrame
    file_format: str
    encoding: str | None = None
    first_column: int = 0          # the sheet column of c0 (0 = A): messages name the column letter
    sheet_name: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.cells.columns if c[0] == "c"]

    def column_label(self, col: str) -> str:
        """How a clerk finds column ``col``: its letter in a workbook, its position in a CSV."""
        index = int(col[1:])
        if self.file_format == "csv":
            return f"第{index + 1}列"
        return f"{column_letter(self.first_column + index)}列"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class UnreadableFile(Exception):
    """The file cannot be read at all; ``str()`` is for the clerk, ``detail`` for the event log."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.detail = detail


# --- CSV ----------------------------------------------------------------------------------

def detect_encoding(data: bytes) -> tuple[str, str]:
    """(encoding name for raw.batches, decoded text). UTF-8 is tried strictly first: a GBK file
    is almost never valid UTF-8, while UTF-8 Chinese text is never valid GBK by accident."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return "utf-8-sig", data[3:].decode("utf-8")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return "utf-8", data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("文件是 UTF-16 编码（Excel 的“Unicode 文本”格式），不是 CSV：请用 Excel 或 WPS 打开，"
                             "另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再放入收件箱")
    # GBK is a subset of GB18030: report the narrower name when it suffices.
    for name in ("gbk", "gb18030"):
        try:
            return name, data.decode(name)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("文件编码无法识别（不是 UTF-8、GBK 或 GB18030），可能已损坏或不是文本文件："
                         "请用 Excel 或 WPS 打开后另存为“CSV UTF-8（逗号分隔）”或 .xlsx")


def read_csv(data: bytes) -> Grid:
    encoding, text = detect_encoding(data)
    if not text or text.isspace():  # not strip(): that copies the whole text
        raise UnreadableFile("文件是空的：请重新导出")
    # UTF-8 input is handed to polars as it is; only GBK text needs encoding again.
    utf8 = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
    cells = _quick_records(utf8)
    if cells is None:
        cells = _careful_records(text)
    cells = cells.rename({c: f"c{i}" for i, c in enumerate(cells.columns) if not c.startswith("_")})
    # Records, not physical lines: a quoted field may span lines; the header is row 1.
    cells = cells.with_row_index("row_no", offset=1).with_columns(pl.col("row_no").cast(pl.Int32))
    return Grid(cells=cells, file_format="csv", encoding=encoding)


def _quick_records(utf8: bytes) -> pl.DataFrame | None:
    """The records as polars splits them, when that is provably what a careful reader would get:
    no row wider than the first (polars refuses), no quote out of place (polars refuses), and no
    value spanning lines that holds a whole line's worth of commas (a quote left open swallows the
    lines after it; a remark with a line break in it holds a comma or two). Else None."""
    try:
        cells = pl.read_csv(utf8, has_header=False, infer_schema=False, truncate_ragged_lines=False)
    except Exception:  # polars raises several kinds for malformed CSV; the careful reader says which row
        return None
    if b'"' in utf8:   # only a quoted value can hold a line break
        commas = cells.select(pl.max_horizontal(
            pl.when(pl.col(c).str.contains(r"[\r\n]")).then(pl.col(c).str.count_matches(",", literal=True))
            for c in cells.columns).max()).item()
        if commas is not None and commas >= max(cells.width - 1, 1):
            return None
    return cells


def _physical_lines(text: str) -> list[str]:
    """The file's lines with their line ends (\\n, \\r\\n or \\r), as the csv module reads them."""
    return io.StringIO(text, newline="").readlines()


def _careful_records(text: str) -> pl.DataFrame:
    """Records read one at a time by the csv module (strict quoting). A record whose quotes do not
    pair up, or that spans lines without having the file's usual number of fields (a quote left
    open that closed on a later line), is taken to be its first line alone, marked
    ROW_QUOTE_BROKEN, and reading resumes on the next line: one bad quote costs one row."""
    lines = _physical_lines(text)
    width = _usual_width(lines)
    records: list[list[str]] = []
    marks: list[str | None] = []
    texts: list[str | None] = []
    start = 0
    while start < len(lines):
        reader = csv.reader((lines[i] for i in range(start, len(lines))), strict=True)
        consumed = 0   # lines of the records read so far since ``start``
        try:
            for record in reader:
                if reader.line_num - consumed > 1 and len(record) != width:
                    raise csv.Error("a record spans lines with an unusual number of fields")
                consumed = reader.line_num
                records.append(record)
                marks.append(None)
                texts.append(None)
        except csv.Error:
            broken = start + consumed
            records.append([])
            marks.append(ROW_QUOTE_BROKEN)
            texts.append(lines[broken].rstrip("\r\n"))
            start = broken + 1
            continue
        break
    n = max((len(r) for r in records), default=0)
    columns = list(zip_longest(*records, fillvalue=None)) if records else []
    data = {f"column_{i}": pl.Series(values=list(col), dtype=pl.String) for i, col in enumerate(columns)}
    if n == 0:
        data = {"column_0": pl.Series(values=[None] * len(records), dtype=pl.String)}
    frame = pl.DataFrame(data).with_columns(
        pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in data)  # as polars reads: empty is null
    if any(marks):
        frame = frame.with_columns(pl.Series("_row", marks, dtype=pl.String), pl.Series("_text", texts, dtype=pl.String))
    return frame


def _usual_width(lines: list[str]) -> int:
    """The number of fields most one-line records have (quotes taken into account only roughly:
    it is the yardstick for records that span lines, which the csv module then reads exactly)."""
    counts = Counter()
    for record in csv.reader(line for line in lines[:2000] if line.count('"') % 2 == 0):
        if record:
            counts[len(record)] += 1
    return counts.most_common(1)[0][0] if counts else 0


# --- workbooks ----------------------------------------------------------------------------

_FIRST_SHEET_REL = re.compile(rb'<sheet\b[^>]*?\br:id="([^"]+)"')
_FORMULA_CELL = re.compile(rb'<c\b([^>]*?)(?<!/)>((?:(?!</c>).)*?<f\b(?:(?!</c>).)*?)</c>', re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<v>[^<]|<is>")


def _first_sheet_xml(zf: zipfile.ZipFile) -> str | None:
    """The zip member holding the workbook's first sheet."""
    try:
        workbook = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rid = _FIRST_SHEET_REL.search(workbook)
    if not rid:
        return None
    rel = re.search(rb'<Relationship\b[^>]*?Id="' + re.escape(rid.group(1)) + rb'"[^>]*?/>', rels)
    if not rel:
        return None
    target = re.search(rb'Target="([^"]+)"', rel.group(0)).group(1).decode().lstrip("/")
    return target if target.startswith("xl/") else "xl/" + target


def _letters_to_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def formula_cells_without_value(data: bytes) -> list[tuple[int, int]]:
    """(sheet row number, sheet column index) of the first sheet's formula cells that hold no saved
    result: a workbook written by a program and never opened in Excel. calamine reads them as empty,
    which they are not. Only a sheet that has a formula at all is scanned cell by cell."""
    found: list[tuple[int, int]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        member = _first_sheet_xml(zf)
        if member is None or member not in zf.namelist():
            return found
        xml = zf.read(member)
    if b"<f" not in xml:
        return found
    for m in _FORMULA_CELL.finditer(xml):
        if _VALUE.search(m.group(2)):
            continue
        ref = _CELL_REF.search(m.group(1))
        if ref:
            found.append((int(ref.group(2)), _letters_to_index(ref.group(1))))
    return found


def _iso(col: pl.Expr) -> pl.Expr:
    """Datetime cells as ISO text: the date alone at midnight, else date and time."""
    return (
        pl.when(col.dt.time() == pl.time(0))
        .then(col.dt.strftime("%Y-%m-%d"))
        .otherwise(col.dt.strftime("%Y-%m-%d %H:%M:%S"))
    )


def sniff_workbook(data: bytes, suffix: str) -> str:
    """What a workbook file really is ('xlsx' or 'xls'), or UnreadableFile saying what it is instead."""
    if not data:
        raise UnreadableFile("文件是空的（0 字节）：请重新导出")
    if data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise UnreadableFile("文件已损坏或不完整，无法作为 Excel 工作簿打开：请重新导出或重新下载",
                                 detail=str(exc)) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            raise UnreadableFile("这是 Word 文档，不是 Excel 表格：请把表格复制到 Excel 中另存为 .xlsx")
        if "content.xml" in names:
            raise UnreadableFile("这是 WPS/LibreOffice 的 .ods 表格：请另存为 .xlsx")
        raise UnreadableFile("这是一个压缩包（zip），不是 Excel 工作簿：请解压后把其中的表格文件放进收件箱")
    if data.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise UnreadableFile("工作簿设有打开密码，无法读取：请在 Excel 或 WPS 中取消密码（文件→信息→保护工作簿）后另存")
        return "xls"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")) or b"<table" in head:
        raise UnreadableFile(f"这个 {suffix} 文件其实是网页（HTML）格式（系统“导出 Excel”常这样做）："
                             "请用 Excel 或 WPS 打开后另存为 .xlsx 再放入收件箱")
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:8192]:
        raise UnreadableFile("这是 Excel 2003 XML 表格：请用 Excel 或 WPS 打开后另存为 .xlsx")
    try:
        detect_encoding(data[:65536])
        text = True
    except UnreadableFile:
        text = False
    if text:
        raise UnreadableFile(f"这个文件的扩展名是 {suffix}，但内容是文本（CSV 等）：若是逗号分隔的表格，"
                             "请把扩展名改为 .csv；否则请用 Excel 或 WPS 打开后另存为 .xlsx")
    raise UnreadableFile("文件内容无法识别为 Excel 工作簿（可能已损坏）：请用 Excel 或 WPS 打开后另存为 .xlsx")


def workbook_sheets(data: bytes) -> list[str]:
    try:
        return fastexcel.read_excel(data).sheet_names
    except Exception as exc:
        raise UnreadableFile("Excel 文件无法打开（可能已损坏，或不是 Excel 保存的格式）：请用 Excel 或 WPS "
                             "打开后另存为 .xlsx", detail=str(exc)) from None


def read_workbook(data: bytes, suffix: str = ".xlsx", sheet: int = 0) -> Grid:
    """Sheet ``sheet`` (the first by default: contract §1) of a workbook, .xlsx or .xls."""
    kind = sniff_workbook(data, suffix)
    try:
        reader = fastexcel.read_excel(data)
        if not reader.sheet_names:
            raise UnreadableFile("工作簿中没有工作表")

        def load(dtype: str):
            # skip_rows=0: leading blank rows stay, so a frame row's index + 1 is the sheet's row number
            return reader.load_sheet(sheet, header_row=None, dtypes=dtype, skip_rows=0)

        text_sheet = load("string")
        first_column = min((c.absolute_index for c in text_sheet.available_columns()), default=0)
        table, errors = text_sheet.to_arrow_with_errors()
        text = pl.from_arrow(table)
        text = text.rename({c: f"c{i}" for i, c in enumerate(text.columns)})
        # calamine converts cell by cell: a text cell never becomes a boolean or a duration, so
        # non-null there means the cell held a number (boolean view) or a date (duration view).
        views = [load(dtype).to_polars() for dtype in ("boolean", "duration", "datetime")]
        wide = pl.concat(
            [text, *(v.rename({c: f"{p}c{i}" for i, c in enumerate(v.columns)}) for p, v in zip(("b_", "d_", "t_"), views))],
            how="horizontal",
        )
        formulas = formula_cells_without_value(data) if kind == "xlsx" and sheet == 0 else []
        name = reader.sheet_names[sheet]
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile("Excel 文件无法打开（可能已损坏，或不是 Excel 保存的格式）：请用 Excel 或 WPS "
                             "打开后另存为 .xlsx", detail=str(exc)) from None
    cols = [c for c in wide.columns if c[0] == "c"]
    cells = wide.select(
        *(pl.when(pl.col(f"d_{c}").is_not_null()).then(_iso(pl.col(f"t_{c}"))).otherwise(pl.col(c)).alias(c)
          for c in cols),
        *(pl.when(pl.col(f"d_{c}").is_not_null()).then(pl.lit("date"))
          .when(pl.col(f"b_{c}").is_not_null()).then(pl.lit("number"))
          .otherwise(pl.lit(None, dtype=pl.String)).alias(f"type_{c}") for c in cols),
        *(_iso(pl.col(f"t_{c}")).alias(f"serial_{c}") for c in cols),
    )
    cells = cells.with_row_index("row_no", offset=1).with_columns(pl.col("row_no").cast(pl.Int32))
    cells = _mark_cells(cells, errors, formulas, first_column)
    return Grid(cells=cells, file_format=kind, first_column=first_column, sheet_name=name)


def _mark_cells(cells: pl.DataFrame, errors, formulas: list[tuple[int, int]], first_column: int) -> pl.DataFrame:
    """Error cells get Excel's text for them (#N/A …) and type 'error'; formula cells without a saved
    result type 'formula'. Both are rare: the frame is only touched where they are."""
    marks: list[tuple[int, int, str, str | None]] = []   # (row_no, column index, type, text)
    for e in (errors.errors if errors else []):
        kind = re.search(r"Error\((\w+)\)", e.detail or "")
        marks.append((e.position[0] + 1, e.position[1], "error",
                      _EXCEL_ERRORS.get(kind.group(1), "#" + kind.group(1).upper()) if kind else "#ERROR"))
    for row_no, sheet_col in formulas:
        marks.append((row_no, sheet_col - first_column, "formula", None))
    if not marks:
        return cells
    width = len([c for c in cells.columns if c.startswith("type_")])
    marks = [m for m in marks if 0 <= m[1] < width and 1 <= m[0] <= cells.height]
    if not marks:
        return cells
    frame = pl.DataFrame(marks, schema={"row_no": pl.Int32, "col": pl.Int64, "mark": pl.String, "shown": pl.String},
                         orient="row")
    updates = []
    for i in sorted({m[1] for m in marks}):
        mine = frame.filter(pl.col("col") == i).select("row_no", pl.col("mark").alias(f"_m{i}"),
                                                       pl.col("shown").alias(f"_s{i}"))
        cells = cells.join(mine, on="row_no", how="left")
        updates += [pl.coalesce(pl.col(f"_s{i}"), pl.col(f"c{i}")).alias(f"c{i}"),
                    pl.coalesce(pl.col(f"_m{i}"), pl.col(f"type_c{i}")).alias(f"type_c{i}")]
    cells = cells.with_columns(updates)
    return cells.drop([c for c in cells.columns if c.startswith(("_m", "_s"))]).sort("row_no")


# --- any file -----------------------------------------------------------------------------

def read_file(path: Path, data: bytes | None = None) -> Grid:
    suffix = path.suffix.lower()
    data = path.read_bytes() if data is None else data
    if suffix in CSV_SUFFIXES:
        if data.startswith((_ZIP, _OLE2)):
            raise UnreadableFile("这个文件的扩展名是 .csv，但内容是 Excel 工作簿：请把扩展名改为 .xlsx（老版本 Excel "
                                 "文件改为 .xls）")
        return read_csv(data)
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(data, suffix)
    raise UnreadableFile(f"不支持的文件类型 {suffix}（只接受 .csv、.xlsx 和 .xls）")
