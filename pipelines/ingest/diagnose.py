"""Why a file's header matches its template poorly, in words a clerk can act on.

Run only for a file about to be refused whole (no known column, or a required one missing):
the cause is more often the file's encoding or layout than its columns, and "表头不符" sends
the clerk to the wrong fix. Each test here re-reads the file another way and asks whether the
template's headers would then be found; the first that finds them names the cause.
"""
from __future__ import annotations

import csv
import io

import polars as pl

from pipelines.ingest.headers import HeaderMatch, match_header
from pipelines.ingest.readers import MAX_TITLE_ROWS, Grid, UnreadableFile, read_workbook, workbook_sheets
from pipelines.sources import Template

# Rows searched for a header further down than the contract's five title rows.
DEEP_HEADER_ROWS = 50
# What a re-read is called in the message, and what the clerk should do about it.
_REREADS = (
    ("big5", "文件编码似乎是 Big5（繁体中文），不是 UTF-8 或 GBK：请用 Excel 或 WPS 打开后另存为“CSV UTF-8（逗号分隔）”"
             "或 .xlsx 再放入收件箱"),
    ("latin1>utf-8", "文件内容是乱码：中文曾被当作西文（Latin-1）打开后又另存过（例如“姓名”变成了“å§“å”）："
                     "请从原系统重新导出，不要先用记事本或其他软件打开另存"),
    ("latin1>gbk", "文件内容是乱码：GBK 编码的中文曾被当作西文（Latin-1）打开后又另存过（例如“姓名”变成了“ÐÕÃû”）："
                   "请从原系统重新导出，不要先用记事本或其他软件打开另存"),
    ("gbk>utf-8", "文件内容是乱码：UTF-8 编码的中文曾被当作 GBK 打开后又另存过（例如“姓名”变成了“濮撳悕”）："
                  "请从原系统重新导出，或用记事本以 UTF-8 编码重新打开后另存"),
)
_SEPARATORS = (("\t", "制表符"), (";", "分号"), ("；", "中文分号"), ("|", "竖线"))


def explain(grid: Grid, data: bytes, suffix: str, template: Template, header: HeaderMatch) -> str | None:
    """The cause, if one of the re-reads finds the template's headers; None when the columns
    really are not the template's (the caller then says which columns are missing)."""
    if grid.file_format == "csv":
        found = _csv_cause(grid, data, template, header)
        if found:
            return found
    deep = _deep_header(grid, template, header)
    if deep:
        return deep
    if grid.file_format != "csv":
        return _other_sheet(grid, data, suffix, template, header)
    return None


def _fits(grid: Grid, template: Template, than: HeaderMatch) -> bool:
    m = match_header(grid, template)
    return m.score > than.score and not m.missing


def _grid_of(text: str, separator: str = ",") -> Grid | None:
    """The first lines of ``text`` as a grid, read with ``separator`` (enough for a header)."""
    rows = []
    for record in csv.reader(io.StringIO(text[:200_000], newline=""), delimiter=separator):
        rows.append(record)
        if len(rows) > MAX_TITLE_ROWS + 1:
            break
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return None
    frame = pl.DataFrame({f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)},
                         schema={f"c{i}": pl.String for i in range(width)})
    frame = frame.with_row_index("row_no", offset=1).with_columns(pl.col("row_no").cast(pl.Int32))
    return Grid(cells=frame, file_format="csv")


def _reread(head: bytes, how: str, encoding: str | None) -> str | None:
    """``head`` read the way ``how`` names: as Big5 (a file that is not UTF-8), or a UTF-8 file's text
    turned back into the bytes a wrong decoding made of it and decoded right (mojibake repaired)."""
    utf8 = encoding in ("utf-8", "utf-8-sig")
    try:
        if how == "big5":
            return None if utf8 else head.decode("big5")
        if not utf8:
            return None
        text = head.decode("utf-8-sig", errors="ignore")   # the head may end inside a character
        # Leniently: the damage is rarely clean (a wrong decoding drops or replaces odd bytes), and
        # headers that come back mostly whole are enough to name the cause.
        source, target = how.split(">")
        if source == "latin1":   # Windows shows Latin-1 as cp1252 (“ for 0x93): either may have been used
            try:
                raw = text.encode("cp1252")
            except UnicodeEncodeError:
                raw = text.encode("latin-1", errors="replace")
        else:
            raw = text.encode("gbk", errors="replace")
        return raw.decode(target, errors="replace")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return None


def _looks_big5(head: bytes, encoding: str | None) -> bool:
    """Big5 bytes read as GBK/GB18030: they decode, but into characters a Chinese export does not
    hold: private-use code points (GB18030's user-defined areas, where Big5 puts common characters)
    or, on at least 20 characters, a third outside GB2312 (half of Big5's second bytes lie below
    its range). Its headers are traditional (房屋編碼), so no header test can tell."""
    if encoding not in ("gbk", "gb18030"):
        return False
    try:
        head.decode("big5")
        text = head.decode(encoding, errors="ignore")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F]
    if any(0xE000 <= ord(c) <= 0xF8FF for c in wide):
        return True
    if len(wide) < 20:
        return False
    rare = 0
    for c in wide:
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    return rare / len(wide) > 0.3


def _csv_cause(grid: Grid, data: bytes, template: Template, header: HeaderMatch) -> str | None:
    head = data[:200_000]
    if len(data) > len(head):
        head = head[: head.rfind(b"\n") + 1] or head
    for how, message in _REREADS:
        text = _reread(head, how, grid.encoding)
        if text:
            other = _grid_of(text)
            if other is not None and _fits(other, template, header):
                return message
    if _looks_big5(head, grid.encoding):
        return _REREADS[0][1]
    top = "".join(str(v) for row in grid.cells.head(MAX_TITLE_ROWS + 1).iter_rows() for v in row if v is not None)
    if "锟斤拷" in top or "\ufffd" in top:
        return "文件中有乱码（“锟斤拷”或“�”）：文字在某次另存时已经损坏，无法复原：请从原系统重新导出"
    encoding = (grid.encoding or "utf-8").replace("-sig", "")
    text = head.decode(encoding, errors="replace")
    for separator, name in _SEPARATORS:
        if separator in text:
            other = _grid_of(text, separator)
            if other is not None and _fits(other, template, header):
                return (f"文件用{name}分隔各列，而不是逗号：请用 Excel 或 WPS 打开后另存为“CSV UTF-8（逗号分隔）”"
                        "或 .xlsx")
    return None


def _deep_header(grid: Grid, template: Template, header: HeaderMatch) -> str | None:
    """The header found below the title rows the contract allows."""
    deeper = grid.cells.slice(MAX_TITLE_ROWS + 1, DEEP_HEADER_ROWS)
    if deeper.height == 0:
        return None
    for start in range(0, deeper.height, MAX_TITLE_ROWS + 1):
        window = Grid(cells=deeper.slice(start, MAX_TITLE_ROWS + 1), file_format=grid.file_format,
                      first_column=grid.first_column)
        m = match_header(window, template)
        if m.score > header.score and not m.missing:
            titles = m.header_row - 1
            return (f"表头在第{m.header_row}行，上面有 {titles} 行标题或空行，最多只能有 {MAX_TITLE_ROWS} 行："
                    "请删除多余的标题行，让表头位于前 6 行之内")
    return None


def _other_sheet(grid: Grid, data: bytes, suffix: str, template: Template, header: HeaderMatch) -> str | None:
    try:
        names = workbook_sheets(data)
    except UnreadableFile:
        return None
    empty = grid.cells.height == 0 or all(
        grid.cells.select(pl.col(c).is_null().all()).item() for c in grid.columns) if grid.columns else True
    first = f"第一个工作表“{names[0]}”" if names else "第一个工作表"
    for i in range(1, len(names)):
        try:
            other = read_workbook(data, suffix, sheet=i)
        except UnreadableFile:
            continue
        if _fits(other, template, header):
            where = f"数据在第{_ordinal(i + 1)}个工作表“{names[i]}”"
            if empty:
                return f"{first}是空的，{where}：只读取第一个工作表，请把数据移到第一个工作表（或删除前面的空工作表）"
            return f"{first}不是“{template.title}”数据表，{where}：只读取第一个工作表，请把该工作表移到最前面"
    if empty:
        return f"{first}是空的，没有任何数据"
    return None


def _ordinal(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)
