"""Writes the committed workbook fixtures that code cannot write at test time (run by hand, not by tests).

- 老版本.xls: an Excel 97-2003 (BIFF8) residents workbook, as many offices still send: a title row,
  text and date cells, a number-typed ID, an #N/A error cell. Made by LibreOffice from an openpyxl workbook:
  `soffice --headless --convert-to xls`.
- 加密.xlsx: a residents workbook with an opening password ("onceonly"), encrypted by msoffcrypto-tool
  (pip install msoffcrypto-tool; not a dependency of onceonly).

    python tests/ingest/files/make_files.py   # needs soffice on PATH and msoffcrypto-tool importable
"""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import tempfile
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import TYPE_ERROR

HERE = Path(__file__).parent
HEADER = ["记录编号", "姓名", "公民身份号码", "性别", "出生日期", "房屋编码", "人员类别", "采集日期"]


def residents_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "实有人口"
    ws.append(["XX社区实有人口采集表（老版本 Excel）"])
    ws.append(HEADER)
    ws.append(["X1", "张三", "510104199001010019", "男", dt.date(1990, 1, 1), "H001", "户籍人口", dt.date(2024, 3, 5)])
    ws.append(["X2", "李四", "11010519491231002X", "女", dt.date(1949, 12, 31), "H002", "流动人口", dt.date(2024, 3, 6)])
    ws.append(["X3", "王五", 510104199001011000, "男", dt.date(1990, 1, 1), "H003", "户籍人口", dt.date(2024, 3, 7)])
    ws.append(["X4", "赵六", "510104199001010035", "男", dt.date(1990, 1, 1), "H004", "户籍人口", None])
    ws["H6"] = "#N/A"
    ws["H6"].data_type = TYPE_ERROR
    return wb


def make_xls() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "老版本.xlsx"
        residents_workbook().save(src)
        subprocess.run(["soffice", "--headless", "--convert-to", "xls", "--outdir", tmp, str(src)], check=True,
                       capture_output=True)
        (HERE / "老版本.xls").write_bytes((Path(tmp) / "老版本.xls").read_bytes())


def make_encrypted() -> None:
    import msoffcrypto.format.ooxml

    plain = io.BytesIO()
    residents_workbook().save(plain)
    plain.seek(0)
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("onceonly", out)
    (HERE / "加密.xlsx").write_bytes(out.getvalue())


if __name__ == "__main__":
    make_xls()
    make_encrypted()
