"""Inbox fixtures: real CSV/XLSX files written into a temporary inbox."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

LOADED_ON = dt.date(2024, 6, 1)

RESIDENT_HEADER = ["记录编号", "姓名", "公民身份号码", "性别", "出生日期", "联系电话", "房屋编码", "人员类别", "人员标签", "采集日期"]


def resident(no: int, name: str = "张三", id_number: str = "510104199001010019", sex: str = "男",
             birth: str = "1990-01-01", collected: str = "2024-03-05", **kw) -> list[str]:
    row = {"记录编号": f"R{no}", "姓名": name, "公民身份号码": id_number, "性别": sex, "出生日期": birth,
           "联系电话": "13812341234", "房屋编码": f"H{no:03d}", "人员类别": "户籍人口", "人员标签": "",
           "采集日期": collected}
    row.update(kw)
    return [row[h] for h in RESIDENT_HEADER]


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def inbox(tmp_path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path
