"""The stewards' workbook: ``onceonly quality export`` writes it, ``quality apply`` reads it back.

Only 修正值 / 处理方式 / 原因 are editable (sheet protection with those cells unlocked).
Applying validates every fix, appends accepted ones to ``quality.corrections`` and is a
no-op for a decision that already stands, so applying the same workbook twice changes nothing.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from pipelines.quality.corrections import record_identity
from pipelines.publish.masking import DEFAULT, Masking
from pipelines.quality.queue import list_issues, masked_issue
from pipelines.quality.rules import rule_title
from pipelines.quality.validate import ensure_schema
from pipelines.quality.values import check
from pipelines.sources import Catalog, load_catalog

INSTRUCTIONS_SHEET = "填写说明"
# (header, issues column or None for editable)
COLUMNS = [
    ("问题编号", "issue_id"), ("严重程度", "severity"), ("社区", "community_name"), ("来源", "template"),
    ("文件批次", "batch_id"), ("行号", "row_no"), ("记录编号", "record_no"), ("字段", "field"),
    ("错误值", "value"), ("问题说明", "message"), ("建议修正值", "suggested_fix"),
    ("修正值", None), ("处理方式", None), ("原因", None),
]
EDITABLE = ("修正值", "处理方式", "原因")
ACTIONS = {"修正": "fix", "忽略": "waive"}
SEVERITY_ZH = {"error": "错误", "warn": "警告"}
INSTRUCTIONS = [
    "数据问题修正表 使用说明",
    "",
    "1. 每个工作表是一类问题，每行是一条问题记录。灰色列不能修改，只能填写“修正值”“处理方式”“原因”三列。",
    "2. 要更正数据：在“修正值”填写正确的值，“处理方式”选“修正”，“原因”写明依据（如：核对身份证原件）。",
    "   “建议修正值”是系统推测的正确值（例如该记录最可能对应的人员的身份证号码），核实无误后可以照抄。",
    "   身份证号、电话等按您的授权脱敏显示（如 510104********1234）；脱敏的值不能照抄，请按原始材料填写完整的值。",
    "3. 确认数据没有错误、不需要修改：“处理方式”选“忽略”，并在“原因”写明理由。",
    "4. 日期请写成 2024-03-05；身份证号码必须是有效的18位号码；有下拉框的列请从下拉框中选择。",
    "5. 填好后交回，由管理员执行 onceonly quality apply 导入。不合格的修正会逐条列出原因，不会导入。",
    "6. 修正一次即永久生效：以后每次重新计算都会使用修正后的值，同一记录在新批次中再次出现同样的错误值也会自动更正。",
    "   每条修正都会记录修改人、时间和原因；如需撤销，请联系管理员。",
]


def _sheet_title(rule: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", rule_title(rule))[:31]
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}_{n}"
        n += 1
    used.add(title)
    return title


def export_workbook(conn: duckdb.DuckDBPyConnection, out: Path, community: str | None = None,
                    catalog: Catalog | None = None, masking: Masking = DEFAULT) -> int:
    """Write the open issues (of one community, code or name, if given), their values masked as ``masking``
    shows them (the steward's grant, registry ``queue_masking``); returns the number of rows."""
    catalog = catalog or load_catalog()
    issues = [masked_issue(i, masking) for i in list_issues(conn, community=community, status="open")]
    wb = Workbook()
    ws = wb.active
    ws.title = INSTRUCTIONS_SHEET
    for i, line in enumerate(INSTRUCTIONS, start=1):
        ws.cell(row=i, column=1, value=line)
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 120
    ws.protection.sheet = True

    by_rule: dict[str, list[dict]] = {}
    for issue in issues:
        by_rule.setdefault(issue["rule"], []).append(issue)
    used: set[str] = {INSTRUCTIONS_SHEET}
    locked_fill = PatternFill("solid", fgColor="EEEEEE")
    headers = [h for h, _ in COLUMNS]
    for rule, rows in sorted(by_rule.items()):
        sh = wb.create_sheet(_sheet_title(rule, used))
        sh.append(headers)
        for c in sh[1]:
            c.font = Font(bold=True)
        for issue in rows:
            sh.append([SEVERITY_ZH.get(issue[k], issue[k]) if k == "severity" else issue[k] if k else None
                       for _, k in COLUMNS])
        n = len(rows) + 1
        edit_cols = [headers.index(h) + 1 for h in EDITABLE]
        for r in range(2, n + 1):
            for ci in range(1, len(headers) + 1):
                cell = sh.cell(row=r, column=ci)
                if ci in edit_cols:
                    cell.protection = Protection(locked=False)
                else:
                    cell.fill = locked_fill
        fix_col = sh.cell(row=1, column=headers.index("修正值") + 1).column_letter
        act_col = sh.cell(row=1, column=headers.index("处理方式") + 1).column_letter
        dv = DataValidation(type="list", formula1='"修正,忽略"', allow_blank=True,
                            error="请选择“修正”或“忽略”", errorTitle="处理方式", showErrorMessage=True)
        dv.add(f"{act_col}2:{act_col}{n}")
        sh.add_data_validation(dv)
        # 修正值 of a code-list field: a dropdown of the list's canonical values.
        lists: dict[str, list[int]] = {}
        for r, issue in enumerate(rows, start=2):
            t, col = issue["template"], issue["column_name"]
            if t in catalog.templates and col in catalog[t].columns:
                f = catalog[t].field(col)
                if f.type == "value":
                    lists.setdefault(f.values, []).append(r)
        for list_name, rownums in lists.items():
            v = DataValidation(type="list", formula1='"' + ",".join(catalog.canonical_values(list_name)) + '"',
                               allow_blank=True, showErrorMessage=True, errorTitle="修正值",
                               error=f"请从{list_name}的取值中选择")
            for r in rownums:
                v.add(f"{fix_col}{r}")
            sh.add_data_validation(v)
        for ci, h in enumerate(headers, start=1):
            sh.column_dimensions[sh.cell(row=1, column=ci).column_letter].width = 40 if h == "问题说明" else 16
            if h == "问题说明":
                for r in range(2, n + 1):
                    sh.cell(row=r, column=ci).alignment = Alignment(wrap_text=True)
        sh.freeze_panes = "B2"
        sh.protection.sheet = True
        sh.protection.formatColumns = False   # stewards may still widen columns
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(issues)


@dataclass
class ApplyResult:
    accepted: list[tuple[str, int, str]] = field(default_factory=list)        # sheet, row, issue_id
    refused: list[tuple[str, int, str, str]] = field(default_factory=list)   # sheet, row, issue_id, why
    unchanged: int = 0                                                        # already standing


def _raw_cell(conn, template: str, batch_id: str, row_no: int, column: str) -> tuple[str | None, str | None]:
    ident = record_identity(template)
    rows = conn.execute(f"SELECT CAST({column} AS VARCHAR), CAST({ident} AS VARCHAR) FROM raw.{template} "
                        "WHERE batch_id = ? AND row_no = ?", [batch_id, row_no]).fetchall()
    return rows[0] if rows else (None, None)


def apply_workbook(conn: duckdb.DuckDBPyConnection, path: Path, by: str,
                   catalog: Catalog | None = None) -> ApplyResult:
    catalog = catalog or load_catalog()
    ensure_schema(conn)
    result = ApplyResult()
    wb = load_workbook(path, read_only=True, data_only=True)
    now = dt.datetime.now()
    for sh in wb.worksheets:
        if sh.title == INSTRUCTIONS_SHEET:
            continue
        rows = sh.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
        if "问题编号" not in header:
            continue
        ix = {h: i for i, h in enumerate(header)}
        for rno, row in enumerate(rows, start=2):
            def cell(name):
                v = row[ix[name]] if name in ix and ix[name] < len(row) else None
                return None if v is None or str(v).strip() == "" else str(v).strip()
            issue_id, new, act, reason = cell("问题编号"), cell("修正值"), cell("处理方式"), cell("原因")
            if not issue_id or (new is None and act is None):
                continue
            refuse = lambda why: result.refused.append((sh.title, rno, issue_id, why))  # noqa: E731
            action = ACTIONS.get(act) if act else ("fix" if new is not None else None)
            if action is None:
                refuse(f"处理方式“{act}”无效，只能是“修正”或“忽略”")
                continue
            found = conn.execute("SELECT template, batch_id, row_no, column_name, value FROM quality.issues "
                                 "WHERE issue_id = ?", [issue_id]).fetchall()
            if not found:
                refuse("找不到这个问题编号（问题可能已经解决，或表格不是最新导出的）")
                continue
            template, batch_id, row_no, column, value = found[0]
            old, record_key, stored = value, None, None
            if action == "fix":
                if new is None:
                    refuse("选择了“修正”但没有填写修正值")
                    continue
                if (template not in catalog.templates or column not in catalog[template].columns
                        or batch_id is None or row_no is None):
                    refuse("这个问题不对应源文件中的某一个字段，不能在表格中修正，只能选择“忽略”")
                    continue
                f = catalog[template].field(column)
                spellings = catalog.spellings(f.values) if f.values else None
                stored, why = check(conn, f, new, spellings)
                if why:
                    refuse(why)
                    continue
                old, record_key = _raw_cell(conn, template, batch_id, row_no, column)
            elif batch_id is not None and row_no is not None and template in catalog.templates:
                _, record_key = _raw_cell(conn, template, batch_id, row_no, catalog[template].columns[0])
            standing = conn.execute("SELECT action, new_value FROM quality.active_corrections WHERE issue_id = ?",
                                    [issue_id]).fetchall()
            if standing and standing[0][0] == action and (action == "waive" or standing[0][1] == stored):
                result.unchanged += 1
                continue
            if action == "waive" and not reason:
                refuse("选择“忽略”时必须填写原因")
                continue
            conn.execute(
                "INSERT INTO quality.corrections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [uuid.uuid4().hex, issue_id, template, batch_id, row_no, record_key, column, old, stored, action,
                 reason, by, now])
            conn.execute("UPDATE quality.issues SET status = ? WHERE issue_id = ?",
                         ["fixed" if action == "fix" else "waived", issue_id])
            result.accepted.append((sh.title, rno, issue_id))
    wb.close()
    return result


def revert_correction(conn: duckdb.DuckDBPyConnection, issue_id: str, by: str, reason: str) -> bool:
    """Withdraw the standing decision on an issue (audited: a 'revert' row is appended)."""
    ensure_schema(conn)
    standing = conn.execute("SELECT template, batch_id, row_no, record_key, field, new_value, old_value "
                            "FROM quality.active_corrections WHERE issue_id = ?", [issue_id]).fetchall()
    if not standing:
        return False
    t, b, r, k, f, new, old = standing[0]
    conn.execute("INSERT INTO quality.corrections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'revert', ?, ?, ?)",
                 [uuid.uuid4().hex, issue_id, t, b, r, k, f, new, old, reason, by, dt.datetime.now()])
    conn.execute("UPDATE quality.issues SET status = 'open' WHERE issue_id = ?", [issue_id])
    return True
