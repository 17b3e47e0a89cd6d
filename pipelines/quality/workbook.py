"""The stewards' workbook: ``onceonly quality export`` writes it, ``quality apply`` reads it back.

Only 修正值 / 处理方式 / 原因 are editable (sheet protection with those cells unlocked).
Applying validates every fix against the store (read-only will do) and keeps the accepted ones in the home's
queue of decisions for the next build (pipelines/quality/pending.py) — or, given no home, appends them to this
store's ``quality.corrections`` (a store being built). A decision that already stands, in the store or in the
queue, is a no-op, so applying the same workbook twice changes nothing.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipelines.quality import pending
from pipelines.quality.corrections import record_identity
from pipelines.publish.masking import DEFAULT, Masking, mask_value
from pipelines.quality.queue import list_issues, masked_issue
from pipelines.quality.rules import rule_title
from pipelines.quality.validate import ensure_schema
from pipelines.quality.values import cell_text, check
from pipelines.sources import Catalog, Field, load_catalog
from pipelines.store import dicts, table_exists

INSTRUCTIONS_SHEET = "填写说明"
# the candidate houses of every address issue, "编码 标准地址" per line: the address sheets' drop-downs read
# their rows from here (a list typed into a validation rule stops at 255 characters; 20+ candidates do not fit)
CANDIDATES_SHEET = "候选房屋"
# (header, key of the exported row or None for editable); a sheet's first row is its instruction line, the
# second the headers (apply finds the header row, so workbooks exported before that still apply)
COLUMNS = [
    ("问题编号", "issue_id"), ("严重程度", "severity"), ("社区", "community_name"), ("来源", "source_title"),
    ("文件", "file_name"), ("行号", "row_no"), ("记录编号", "record_no"), ("姓名", "person_name"),
    ("公民身份号码", "person_id"), ("字段", "field"), ("错误值", "value"), ("问题说明", "message"),
    ("建议修正值", "suggested_fix"), ("修正值", None), ("处理方式", None), ("原因", None),
]
EDITABLE = ("修正值", "处理方式", "原因")
ACTIONS = {"修正": "fix", "忽略": "waive"}
SEVERITY_ZH = {"error": "错误", "warn": "警告"}
# where a problem that is not about one source file was found (quality.issues.source)
SOURCE_ZH = {"row_error": "文件读取检查", "expectation": "数据校验", "linkage": "人员关联", "address": "地址匹配"}
ADDRESS_RULES = ("address_no_match", "address_multi_match")
_HEX_ID = re.compile(r"[0-9a-f]{16}")
_HEX_AS_LETTERS = str.maketrans("0123456789abcdef", "GHJKMNPQRTABCDEF")
WIDTHS = {"问题编号": 20, "严重程度": 6, "社区": 10, "来源": 9, "文件": 20, "行号": 7, "记录编号": 12, "姓名": 8,
          "公民身份号码": 20, "字段": 10, "错误值": 20, "问题说明": 40, "建议修正值": 20, "修正值": 22, "处理方式": 9,
          "原因": 18}
WRAPPED = ("文件", "问题说明", "建议修正值", "错误值")
INSTRUCTIONS = [
    "数据问题修正表 使用说明",
    "",
    "1. 每个工作表是一类问题，每行是一条问题记录。第一行写明这类问题怎么处理：修正、选择房屋，或仅可忽略。",
    "   灰色列不能修改，只能填写“修正值”“处理方式”“原因”三列。“文件”“行号”“姓名”“公民身份号码”帮助您找到原始记录。",
    "2. 要更正数据：在“修正值”填写正确的值，“处理方式”选“修正”，“原因”写明依据（如：核对身份证原件）。",
    "   “建议修正值”是系统推测的正确值（例如该记录最可能对应的人员的身份证号码），核实无误后可以照抄。",
    "   身份证号、电话等按您的授权脱敏显示（如 510104********1234）；脱敏的值不能照抄，请按原始材料填写完整的值。",
    "   “修正值”列已设为文本格式，身份证号码直接输入即可；从别处粘贴时请选择“只粘贴数值/文本”，以免被改成科学计数法。",
    "3. 地址找不到房屋或对应多处房屋的工作表：在“修正值”的下拉框中选择该地址对应的房屋编码，导入后该记录按所选房屋",
    "   的标准地址计算；没有合适的候选房屋时请选“忽略”并写明原因（如：房屋尚未录入）。",
    "4. 确认数据没有错误、不需要修改：“处理方式”选“忽略”，并在“原因”写明理由。“仅可忽略”的工作表不能在本表中修改数据，",
    "   需要在源系统中更正后重新导出；已经更正的，下次导入后问题自动关闭。",
    "5. 日期请写成 2024-03-05；身份证号码必须是有效的18位号码；有下拉框的列请从下拉框中选择。",
    "6. 填好后交回，由管理员执行 onceonly quality apply 导入。不合格的修正会逐条列出原因，不会导入。",
    "   已经生效的修正再次导入时会列为“已生效”，不会重复记录。",
    "7. 修正一次即永久生效：以后每次重新计算都会使用修正后的值，同一记录在新批次中再次出现同样的错误值也会自动更正。",
    "   每条修正都会记录修改人、时间和原因（onceonly quality list --status fixed 可查）；如需撤销，请联系管理员。",
]


def _lines(text, width: float) -> int:
    """Lines a wrapped cell of ``width`` characters needs: LibreOffice and WPS do not grow a row to its wrapped
    text on opening, so the export sets row heights itself (a CJK character takes about 1.7 columns)."""
    if text is None:
        return 1
    columns = sum(1.7 if ord(c) > 0x2E80 else 1 for c in str(text))
    return max(1, math.ceil(columns / width))


def _sheet_title(rule: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", rule_title(rule))[:31]
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}_{n}"
        n += 1
    used.add(title)
    return title


def fixable_field(catalog: Catalog, issue: dict) -> Field | None:
    """The source field a 修正值 replaces, or None when the issue can only be waived in the workbook (a
    problem of the data as a whole, not of one cell of a loaded file)."""
    t, col = issue.get("template"), issue.get("column_name")
    if t not in catalog.templates or col not in catalog[t].columns or issue.get("batch_id") is None \
            or issue.get("row_no") is None:
        return None
    return catalog[t].field(col)


def address_candidates(issue: dict) -> list[str]:
    """The house codes an address issue offers (建议修正值 of address_multi_match: codes joined by ';')."""
    return [c for c in (issue.get("suggested_fix") or "").split(";") if c]


def _with_people(conn, issues: list[dict], catalog: Catalog, m: Masking) -> list[dict]:
    """Each issue with its file name, the Chinese name of its source and the person of its row (姓名 and
    公民身份号码 as the file has them, masked per ``m``): what a steward needs to find the record."""
    files = dict(conn.execute("SELECT batch_id, file_name FROM raw.batches").fetchall()) \
        if table_exists(conn, "raw.batches") else {}
    people: dict[str, tuple] = {}
    for t in {i["template"] for i in issues if i.get("template") in catalog.templates}:
        cols = {f.type: f.column for f in reversed(catalog[t].fields) if f.type in ("name", "id_number")}
        if not cols or not table_exists(conn, f"raw.{t}"):
            continue
        ids = [i["issue_id"] for i in issues if i["template"] == t]
        people.update({r[0]: r[1:] for r in conn.execute(
            f"SELECT i.issue_id, {cols.get('name', 'NULL')}, {cols.get('id_number', 'NULL')} "
            f"FROM quality.issues i JOIN raw.{t} r ON r.batch_id = i.batch_id AND r.row_no = i.row_no "
            "WHERE i.template = ? AND list_contains(?, i.issue_id)", [t, ids]).fetchall()})
    out = []
    for i in issues:
        name, id_number = people.get(i["issue_id"], (None, None))
        out.append({**i, "file_name": files.get(i.get("batch_id")),
                    "source_title": catalog[i["template"]].title if i.get("template") in catalog.templates
                    else SOURCE_ZH.get(i.get("source"), i.get("source")),
                    "person_name": mask_value(name, "name", m), "person_id": mask_value(id_number, "id", m)})
    return out


def _house_options(conn, codes: list[str], m: Masking) -> dict[str, str | None]:
    """House code -> its standard address as ``m`` shows addresses (the steward picks a house by its address)."""
    if not codes or not table_exists(conn, "core.houses"):
        return {}
    rows = conn.execute("SELECT house_code, std_address FROM core.houses WHERE list_contains(?, house_code)",
                        [sorted(set(codes))]).fetchall()
    return {code: mask_value(address, "address", m) for code, address in rows}


def sheet_instruction(rule: str, rows: list[dict], catalog: Catalog) -> tuple[str, str]:
    """(kind, the sheet's one-line instruction): 修正, 选择房屋 or 仅可忽略."""
    title = rule_title(rule)
    if rule in ADDRESS_RULES:
        if any(address_candidates(i) for i in rows):
            return "选择房屋", (f"【选择房屋】{title}：在“修正值”的下拉框中选择这条地址对应的房屋编码（各编码的地址见“{CANDIDATES_SHEET}”表），"
                            "“处理方式”选“修正”；没有合适的候选房屋时选“忽略”并在“原因”写明理由。请勿填写地址文字。")
        return "仅可忽略", (f"【仅可忽略】{title}：系统没有候选房屋可选，不能在本表中修改。请在源系统中改为标准地址或先补录房屋；"
                         "核实无误的，“处理方式”选“忽略”并在“原因”写明理由。")
    fields = {f.name for f in (fixable_field(catalog, i) for i in rows) if f is not None}
    if not fields:
        return "仅可忽略", (f"【仅可忽略】{title}：这类问题不对应文件中的某一个格子，不能在本表中修改数据，需在源系统中更正后"
                         "重新导出。核实无误的，“处理方式”选“忽略”并在“原因”写明理由。")
    return "修正", (f"【修正或忽略】{title}：在“修正值”填写正确的{'、'.join(sorted(fields))}，“处理方式”选“修正”，“原因”写明依据；"
                  "数据本来无误的选“忽略”并写明理由。灰色列不能修改。")


def export_workbook(conn: duckdb.DuckDBPyConnection, out: Path, community: str | None = None,
                    catalog: Catalog | None = None, masking: Masking = DEFAULT, issues: str = "quality.issues") -> int:
    """Write the open issues (of one community, code or name, if given), their values masked as ``masking``
    shows them (the steward's grant, registry ``queue_masking``); ``issues``: the table or view to read (see
    pipelines/quality/pending.py's overlay). Returns the number of rows."""
    catalog = catalog or load_catalog()
    found = list_issues(conn, community=community, status="open", issues=issues)
    issues = _with_people(conn, [masked_issue(i, masking) for i in found], catalog, masking)
    fields = {i["issue_id"]: fixable_field(catalog, i) for i in found}
    wb = Workbook()
    ws = wb.active
    ws.title = INSTRUCTIONS_SHEET
    for i, line in enumerate(INSTRUCTIONS, start=1):
        ws.cell(row=i, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[i].height = 16 * _lines(line, 110)
    ws["A1"].font = Font(bold=True, size=14)
    ws.row_dimensions[1].height = 22
    ws.column_dimensions["A"].width = 110
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True

    by_rule: dict[str, list[dict]] = {}
    for issue in issues:
        by_rule.setdefault(issue["rule"], []).append(issue)
    used: set[str] = {INSTRUCTIONS_SHEET, CANDIDATES_SHEET}
    houses = _house_options(conn, [c for i in issues if i["rule"] in ADDRESS_RULES for c in address_candidates(i)],
                            masking)
    cand_rows: list[list] = []
    locked_fill = PatternFill("solid", fgColor="EEEEEE")
    headers = [h for h, _ in COLUMNS]
    col = {h: i + 1 for i, h in enumerate(headers)}
    letter = {h: get_column_letter(i) for h, i in col.items()}
    for rule, rows in sorted(by_rule.items()):
        sh = wb.create_sheet(_sheet_title(rule, used))
        kind, line = sheet_instruction(rule, rows, catalog)
        sh.append([line])
        sh.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sh["A1"].font = Font(bold=True, color="9C0006" if kind == "仅可忽略" else "1F4E79")
        sh["A1"].alignment = Alignment(wrap_text=True, vertical="center")
        sh.row_dimensions[1].height = 36
        sh.append(headers)
        for c in sh[2]:
            c.font = Font(bold=True)
        first, n = 3, len(rows) + 2
        for issue in rows:
            if rule in ADDRESS_RULES and address_candidates(issue):   # the codes are in the drop-down
                issue = {**issue, "suggested_fix": f"{len(address_candidates(issue))} 处候选房屋，见“{CANDIDATES_SHEET}”表"}
            sh.append([SEVERITY_ZH.get(issue[k], issue[k]) if k == "severity" else issue[k] if k else None
                       for _, k in COLUMNS])
        waive_only, lists, id_rows = [], {}, []
        for r, issue in enumerate(rows, start=first):
            f = fields[issue["issue_id"]]
            if rule in ADDRESS_RULES:
                cands = address_candidates(issue)
                if cands:
                    start = len(cand_rows) + 2
                    cand_rows += [[issue["issue_id"], c, houses.get(c), f"{c} {houses.get(c) or ''}".strip()]
                                  for c in cands]
                    lists.setdefault(f"'{CANDIDATES_SHEET}'!$D${start}:$D${len(cand_rows) + 1}", []).append(r)
                else:
                    waive_only.append(r)
            elif f is None:
                waive_only.append(r)
            elif f.type == "value":
                lists.setdefault(",".join(catalog.canonical_values(f.values)), []).append(r)
            elif f.type == "id_number":
                id_rows.append(r)
            for h in headers:
                cell = sh.cell(row=r, column=col[h])
                if h in EDITABLE and not (h == "修正值" and r in waive_only):
                    cell.protection = Protection(locked=False)
                else:
                    cell.fill = locked_fill
                if h == "修正值":
                    cell.number_format = "@"   # an 18-digit ID typed here stays text, not 4.30521E+17
                cell.alignment = Alignment(wrap_text=h in WRAPPED, vertical="top")
            sh.row_dimensions[r].height = 15 * max(_lines(sh.cell(r, col[h]).value, WIDTHS[h]) for h in WRAPPED)
        act = DataValidation(type="list", formula1='"修正,忽略"', allow_blank=True, showErrorMessage=True,
                             error="请选择“修正”或“忽略”", errorTitle="处理方式")
        waive = DataValidation(type="list", formula1='"忽略"', allow_blank=True, showErrorMessage=True,
                               error="这一行只能“忽略”：不能在本表中修改数据", errorTitle="处理方式")
        for r in range(first, n + 1):
            (waive if r in waive_only else act).add(f"{letter['处理方式']}{r}")
        for dv in (act, waive):
            if dv.sqref.ranges:
                sh.add_data_validation(dv)
        for values, rownums in lists.items():
            house = rule in ADDRESS_RULES
            if not house and len(values) > 250:   # Excel's limit for a list typed into the rule; apply still checks
                continue
            v = DataValidation(type="list", formula1=values if house else f'"{values}"', allow_blank=True,
                               showErrorMessage=True,
                               errorTitle="修正值", error="请从下拉框中选择" + ("候选房屋编码" if house else "规定的取值"))
            for r in rownums:
                v.add(f"{letter['修正值']}{r}")
            sh.add_data_validation(v)
        if id_rows:
            v = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True,
                               showErrorMessage=True, errorTitle="修正值",
                               error="身份证号码应为18位（最后一位可以是X），请以文本输入完整号码")
            for r in id_rows:
                v.add(f"{letter['修正值']}{r}")
            sh.add_data_validation(v)
        for h in headers:
            sh.column_dimensions[letter[h]].width = WIDTHS.get(h, 12)
        sh.freeze_panes = f"{letter['严重程度']}{first}"
        sh.protection.sheet = True
        sh.protection.formatColumns = False   # stewards may still widen columns
        sh.page_setup.orientation = "landscape"
        sh.page_setup.fitToWidth, sh.page_setup.fitToHeight = 1, 0
        sh.sheet_properties.pageSetUpPr.fitToPage = True
        sh.print_title_rows = "1:2"
    if cand_rows:
        cs = wb.create_sheet(CANDIDATES_SHEET)
        cs.append(["对应问题编号", "房屋编码", "标准地址", "下拉选项"])
        for c in cs[1]:
            c.font = Font(bold=True)
        for r in cand_rows:
            cs.append(r)
        for letter_, width in zip("ABCD", (20, 16, 40, 56)):
            cs.column_dimensions[letter_].width = width
        cs.page_setup.orientation = "landscape"
        cs.page_setup.fitToWidth, cs.page_setup.fitToHeight = 1, 0
        cs.sheet_properties.pageSetUpPr.fitToPage = True
        cs.print_title_rows = "1:1"
        cs.protection.sheet = True
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(issues)


@dataclass
class ApplyResult:
    accepted: list[tuple[str, int, str]] = field(default_factory=list)        # sheet, row, issue_id
    refused: list[tuple[str, int, str, str]] = field(default_factory=list)   # sheet, row, issue_id, why
    already: list[tuple[str, int, str]] = field(default_factory=list)        # sheet, row, issue_id: in force

    @property
    def unchanged(self) -> int:
        return len(self.already)


def _raw_cell(conn, template: str, batch_id: str, row_no: int, column: str) -> tuple[str | None, str | None]:
    ident = record_identity(template)
    rows = conn.execute(f"SELECT CAST({column} AS VARCHAR), CAST({ident} AS VARCHAR) FROM raw.{template} "
                        "WHERE batch_id = ? AND row_no = ?", [batch_id, row_no]).fetchall()
    return rows[0] if rows else (None, None)


def _house_address(conn, issue: dict, code: str) -> tuple[str | None, str | None]:
    """The standard address of the house a steward chose for an address issue: (address to store, None), or
    (None, why). The choice must be one of the issue's candidates: the address then means exactly that house."""
    cands = address_candidates(issue)
    if not cands:
        return None, "这条地址没有候选房屋，不能在表格中选择；请在源系统中改为标准地址或先补录房屋，或选择“忽略”并写明原因"
    if code not in cands:
        return None, f"“{code}”不是这条地址的候选房屋，请从下拉框中选择（{'、'.join(cands)}）"
    if not table_exists(conn, "core.houses"):
        return None, "房屋表尚未生成，请先运行 onceonly run"
    rows = conn.execute("SELECT std_address FROM core.houses WHERE house_code = ?", [code]).fetchall()
    if not rows or not rows[0][0]:
        return None, f"房屋编码“{code}”不在实有房屋中"
    return rows[0][0], None


def header_row(rows) -> tuple[int, list[str]] | None:
    """(row number, headers) of the sheet's header row: the first of its first rows that names 问题编号 (row 2
    under the instruction line; row 1 in workbooks exported before it was added)."""
    for rno, row in enumerate(rows, start=1):
        header = [str(h).strip() if h is not None else "" for h in row]
        if "问题编号" in header:
            return rno, header
        if rno >= 5:
            return None
    return None


class _Decisions:
    """Where accepted decisions go: the home's queue (``home``), else the store itself. Standing decisions are
    the store's and the queue's together, so a decision waiting for the next build is not taken twice."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, home: Path | None):
        self.conn, self.home, self.rows = conn, home, []
        if home is not None:
            pending.load_temp(conn, home)       # TEMP: the store itself may be open read-only
        else:
            ensure_schema(conn)
        parts = []
        if table_exists(conn, "quality.corrections"):
            parts.append(f"SELECT {pending.QUOTED} FROM quality.corrections")
        if home is not None:
            parts.append("SELECT * FROM pending_corrections")
        self.all = "(" + " UNION ALL ".join(parts) + ")"

    def standing(self, issue_id: str) -> list[tuple]:
        """The issue's standing decision, [(action, new_value, template, batch_id, row_no, record_key, field,
        old_value)], or [] (none, or withdrawn): its newest, as quality.active_corrections."""
        rows = self.conn.execute(
            f"""SELECT action, new_value, template, batch_id, row_no, record_key, field, old_value FROM {self.all}
                WHERE issue_id = ? ORDER BY "at" DESC, correction_id DESC LIMIT 1""", [issue_id]).fetchall()
        return [r for r in rows if r[0] != "revert"]

    def add(self, row: list) -> None:
        if self.home is None:
            self.conn.execute(f"INSERT INTO quality.corrections VALUES ({', '.join('?' * len(row))})", row)
            status = {"fix": "fixed", "waive": "waived", "revert": "open"}[row[9]]
            self.conn.execute("UPDATE quality.issues SET status = ? WHERE issue_id = ?", [status, row[1]])
        else:
            self.conn.execute(f"INSERT INTO pending_corrections VALUES ({', '.join('?' * len(row))})", row)
            self.rows.append(row)

    def commit(self) -> None:
        if self.home is not None:
            pending.record(self.home, self.rows)
            self.rows = []


def apply_workbook(conn: duckdb.DuckDBPyConnection, path: Path, by: str,
                   catalog: Catalog | None = None, *, home: Path | None = None) -> ApplyResult:
    """Validate and keep every filled row of a fixes workbook: in ``home``'s queue for the next build, or (no
    home) in the store of ``conn``. A decision already in force (before or after the rebuild that applied it, or
    waiting for the next build) is listed in ``already``, never refused and never recorded twice."""
    catalog = catalog or load_catalog()
    decisions = _Decisions(conn, home)
    result = ApplyResult()
    wb = load_workbook(path, read_only=True, data_only=True)
    now = dt.datetime.now()
    for sh in wb.worksheets:
        if sh.title == INSTRUCTIONS_SHEET:
            continue
        rows = sh.iter_rows(values_only=True)
        found_header = header_row(rows)
        if found_header is None:
            continue
        header_no, header = found_header
        ix = {h: i for i, h in enumerate(header)}
        for rno, row in enumerate(rows, start=header_no + 1):
            def cell(name):
                v = row[ix[name]] if name in ix and ix[name] < len(row) else None
                return None if v is None or str(v).strip() == "" else v
            issue_id, raw_new, act, reason = cell("问题编号"), cell("修正值"), cell("处理方式"), cell("原因")
            if not issue_id or (raw_new is None and act is None):
                continue
            issue_id, act = issue_id_in_cell(issue_id), str(act).strip() if act is not None else None
            reason = str(reason).strip() if reason is not None else None
            refuse = lambda why: result.refused.append((sh.title, rno, issue_id, why))  # noqa: E731
            action = ACTIONS.get(act) if act else ("fix" if raw_new is not None else None)
            if action is None:
                refuse(f"处理方式“{act}”无效，只能是“修正”或“忽略”")
                continue
            found = dicts(conn.execute("SELECT * FROM quality.issues WHERE issue_id = ?", [issue_id]))
            standing = decisions.standing(issue_id)
            if not found:
                if standing and standing[0][0] == action:
                    # decided, and a rebuild before quality.issues kept resolved issues no longer lists it
                    result.already.append((sh.title, rno, issue_id))
                else:
                    refuse("找不到这个问题编号（问题可能已经解决，或表格不是最新导出的）")
                continue
            issue = found[0]
            template, batch_id, row_no, column = issue["template"], issue["batch_id"], issue["row_no"], issue["column_name"]
            old, record_key, stored = issue["value"], None, None
            f = fixable_field(catalog, issue)
            if action == "fix":
                new, why = cell_text(raw_new, f)
                if why:
                    refuse(why)
                    continue
                if new is None:
                    refuse("选择了“修正”但没有填写修正值")
                    continue
                if f is None:
                    refuse("这个问题不对应源文件中的某一个字段，不能在表格中修正，只能选择“忽略”")
                    continue
                if issue["rule"] in ADDRESS_RULES:   # "编码 地址" as the drop-down offers it, or the code alone
                    stored, why = _house_address(conn, issue, new.split()[0])
                else:
                    spellings = catalog.spellings(f.values) if f.values else None
                    stored, why = check(conn, f, new, spellings)
                if why:
                    refuse(why)
                    continue
                old, record_key = _raw_cell(conn, template, batch_id, row_no, column)
            elif f is not None:
                _, record_key = _raw_cell(conn, template, batch_id, row_no, catalog[template].columns[0])
            if standing and standing[0][0] == action and (action == "waive" or standing[0][1] == stored):
                result.already.append((sh.title, rno, issue_id))
                continue
            if action == "waive" and not reason:
                refuse("选择“忽略”时必须填写原因")
                continue
            decisions.add([uuid.uuid4().hex, issue_id, template, batch_id, row_no, record_key, column, old, stored,
                           action, reason, by, now])
            result.accepted.append((sh.title, rno, issue_id))
    wb.close()
    decisions.commit()
    return result


def issue_id_in_cell(value: object) -> str:
    """The issue a workbook's 问题编号 cell names. Workbooks exported before 2026-12-07 spell it in hex: read as
    today's letters, as sql/macros/keys.sql upgraded_issue_id reads the store's (a test holds the two equal)."""
    text = str(value).strip()
    return text.translate(_HEX_AS_LETTERS) if _HEX_ID.fullmatch(text) else text


def revert_correction(conn: duckdb.DuckDBPyConnection, issue_id: str, by: str, reason: str, *,
                      home: Path | None = None) -> bool:
    """Withdraw the standing decision on an issue (audited: a 'revert' row is appended), kept as apply_workbook
    keeps decisions."""
    decisions = _Decisions(conn, home)
    standing = decisions.standing(issue_id)
    if not standing:
        return False
    _, new, t, b, r, k, f, old = standing[0]
    decisions.add([uuid.uuid4().hex, issue_id, t, b, r, k, f, new, old, "revert", reason, by, dt.datetime.now()])
    decisions.commit()
    return True
