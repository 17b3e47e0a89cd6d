"""Checks a steward's corrected value before it is stored (the workbook's 修正值 column).

ID numbers and dates are checked with the store's own macros (``sql/macros/id_number.sql``,
``sql/macros/dates.sql``), so a fix is valid exactly when staging would accept it.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

import duckdb

from pipelines.sources import Field


def check(conn: duckdb.DuckDBPyConnection, field: Field, value: str,
          spellings: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    """(value to store, None) when acceptable, else (None, reason in Chinese)."""
    v = unicodedata.normalize("NFKC", str(value)).strip()
    if not v:
        return None, "修正值为空；如不需要修正请选择“忽略”"
    if field.type == "id_number":
        norm, problem = conn.execute("SELECT id_normalize(?), id_problem(id_normalize(?))", [v, v]).fetchall()[0]
        return (norm, None) if problem is None and norm else (None, f"身份证号码无效（{problem or '为空'}）")
    if field.type == "date":
        d = conn.execute("SELECT cn_date(?)", [v]).fetchall()[0][0]
        if d is None:
            return None, f"“{v}”不是有效日期，请写成 2024-03-05"
        if field.not_future and d > dt.date.today():
            return None, "日期不能晚于今天"
        return d.isoformat(), None
    if field.type in ("value", "tags") and spellings is not None:
        if field.type == "tags":
            parts = [p for p in re.split(r"[;；,，、]", v) if p]
            bad = [p for p in parts if "".join(p.split()) not in spellings]
            if bad:
                return None, f"“{'、'.join(bad)}”不在{field.name}的取值列表中"
            return ";".join(spellings["".join(p.split())] for p in parts), None
        key = "".join(v.split())
        if key not in spellings:
            return None, f"“{v}”不在{field.name}的取值列表中（{'、'.join(sorted(set(spellings.values())))}）"
        return spellings[key], None
    if field.type == "integer":
        return (v, None) if re.fullmatch(r"-?\d+", v) else (None, f"“{v}”不是整数")
    if field.type == "decimal":
        return (v, None) if re.fullmatch(r"-?\d+(\.\d{1,2})?", v) else (None, f"“{v}”不是金额（最多两位小数）")
    if field.type == "phone":
        digits = re.sub(r"[\s-]", "", v)
        return (digits, None) if re.fullmatch(r"\d{7,12}", digits) else (None, f"“{v}”不是有效电话号码")
    if field.type == "code" and re.search(r"\s", v):
        return None, "编码中不能有空格"
    return v, None


def cell_text(value, field: Field | None) -> tuple[str | None, str | None]:
    """The text a steward meant by a workbook cell: (text, None), or (None, reason in Chinese).

    Excel and WPS keep only 15 significant digits of a number, so an ID number that reached the cell as a number
    (typed into a General cell, pasted from another sheet) may have lost its last digits: it is refused with that
    explanation rather than as "长度错误". A date typed as a date arrives as a datetime and means that day."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, (int, float)):
        if field is not None and field.type in ("id_number", "phone", "code"):
            return None, (f"{field.name}被 Excel 当成了数字（{value:.15g}），数字只保留15位有效数字，后几位可能已经改变。"
                          "请把单元格设为“文本”后重新输入，或在号码前加英文单引号 '")
        if isinstance(value, float) and value.is_integer():
            return str(int(value)), None
        return str(value), None
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    return str(value).strip(), None
