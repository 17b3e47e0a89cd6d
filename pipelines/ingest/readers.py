"""Read one inbox file into a grid of text cells, as a clerk sees it in a spreadsheet.

Every cell is text. For XLSX the reader also notes which cells were numbers or dates
(`cell_types`), because an 18-digit ID typed into a number cell has already lost its last
digits in Excel and must be refused, not trusted.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

# Title rows allowed above the header row (contract §1: up to 5).
MAX_TITLE_ROWS = 5


@dataclass
class Grid:
    """The cells of a file, one row per sheet row.

    ``cells`` holds row_no (the row number a clerk sees), the text columns c0..cN and, for XLSX,
    for every ci: ``type_ci`` ('number' / 'date' / null for text) and ``serial_ci`` (the cell read
    as an Excel date, used when a date field holds a bare serial number).
    """

    cells: pl.DataFrame
    file_format: str
    encoding: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in self.cells.columns if c[0] == "c"]


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is for the clerk."""


def detect_encoding(data: bytes) -> tuple[str, str]:
    """(encoding name for raw.batches, decoded text). UTF-8 is tried strictly first: a GBK file
    is almost never valid UTF-8, while UTF-8 Chinese text is never valid GBK by accident."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", data[3:].decode("utf-8")
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # GBK is a subset of GB18030: report the narrower name when it suffices.
    for name in ("gbk", "gb18030"):
        try:
            return name, data.decode(name)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("文件编码无法识别（应为 UTF-8、GBK 或 GB18030）")


def read_csv(data: bytes) -> Grid:
    encoding, text = detect_encoding(data)
    if not text or text.isspace():  # not strip(): that copies the whole text
        raise UnreadableFile("文件是空的")
    # UTF-8 input is handed to polars as it is; only GBK text needs encoding again.
    utf8 = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
    try:
        cells = pl.read_csv(
            utf8, has_header=False, infer_schema=False,
            truncate_ragged_lines=True,
        )
    except Exception as exc:  # polars raises several kinds for malformed CSV
        raise UnreadableFile(f"CSV 格式无法解析：{exc}") from exc
    cells = cells.rename({c: f"c{i}" for i, c in enumerate(cells.columns)})
    # Records, not physical lines: a quoted field may span lines; the header is row 1.
    cells = cells.with_row_index("row_no", offset=1).with_columns(pl.col("row_no").cast(pl.Int32))
    return Grid(cells=cells, file_format="csv", encoding=encoding)


_FIRST_SHEET_REL = re.compile(rb'<sheet\b[^>]*?\br:id="([^"]+)"')
_CELL = re.compile(rb'<c\b[^>]*?\br="[A-Z]+(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)


def _first_used_row(path: Path) -> int:
    """The sheet row number where calamine's range starts (the first row holding a value).

    fastexcel numbers rows from the first used row, but row_no must be the sheet's own
    number, so it is read from the first sheet's XML (only its beginning is scanned).
    """
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
        rid = _FIRST_SHEET_REL.search(workbook)
        target = None
        if rid:
            rel = re.search(rb'<Relationship\b[^>]*?Id="' + re.escape(rid.group(1)) + rb'"[^>]*?/>', rels)
            if rel:
                target = re.search(rb'Target="([^"]+)"', rel.group(0)).group(1).decode()
        if target is None:
            return 1
        target = target.lstrip("/")
        if not target.startswith("xl/"):
            target = "xl/" + target
        with zf.open(target) as fh:
            head = b""
            while chunk := fh.read(1 << 16):
                head += chunk
                for m in _CELL.finditer(head):
                    if m.group(2) and (b"<v>" in m.group(2) or b"<t" in m.group(2)):
                        return int(m.group(1))
                if len(head) > 1 << 22:
                    break
    return 1


def _iso(col: pl.Expr) -> pl.Expr:
    """Datetime cells as ISO text: the date alone at midnight, else date and time."""
    return (
        pl.when(col.dt.time() == pl.time(0))
        .then(col.dt.strftime("%Y-%m-%d"))
        .otherwise(col.dt.strftime("%Y-%m-%d %H:%M:%S"))
    )


def read_xlsx(path: Path) -> Grid:
    try:
        reader = fastexcel.read_excel(path)
        if not reader.sheet_names:
            raise UnreadableFile("工作簿中没有工作表")

        def load(dtype: str, prefix: str) -> pl.DataFrame:
            df = reader.load_sheet(0, header_row=None, dtypes=dtype).to_polars()
            return df.rename({c: f"{prefix}c{i}" for i, c in enumerate(df.columns)})

        # calamine converts cell by cell: a text cell never becomes a boolean or a duration, so
        # non-null there means the cell held a number (boolean view) or a date (duration view).
        wide = pl.concat(
            [load("string", ""), load("boolean", "b_"), load("duration", "d_"), load("datetime", "t_")],
            how="horizontal",
        )
        first_row = _first_used_row(path)
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"Excel 文件无法打开：{exc}") from exc
    cols = [c for c in wide.columns if c[0] == "c"]
    cells = wide.select(
        *(pl.when(pl.col(f"d_{c}").is_not_null()).then(_iso(pl.col(f"t_{c}"))).otherwise(pl.col(c)).alias(c)
          for c in cols),
        *(pl.when(pl.col(f"d_{c}").is_not_null()).then(pl.lit("date"))
          .when(pl.col(f"b_{c}").is_not_null()).then(pl.lit("number"))
          .otherwise(pl.lit(None, dtype=pl.String)).alias(f"type_{c}") for c in cols),
        *(_iso(pl.col(f"t_{c}")).alias(f"serial_{c}") for c in cols),
    )
    cells = cells.with_row_index("row_no", offset=first_row).with_columns(pl.col("row_no").cast(pl.Int32))
    return Grid(cells=cells, file_format="xlsx")


def read_file(path: Path, data: bytes | None = None) -> Grid:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path.read_bytes() if data is None else data)
    if suffix == ".xlsx":
        return read_xlsx(path)
    raise UnreadableFile(f"不支持的文件类型 {suffix}（只接受 .csv 和 .xlsx）")
