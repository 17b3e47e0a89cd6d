"""运行报告: one page per run beside its reports — every inbox file answered (loaded, refused whole, a duplicate, not
read) with why, the rows refused per file with their reasons, counts per source, and what changed since the
previous published version (persons and their statuses, 登记人口 and 实有人口 per community, the steward queue).

The build computes its tables once (:func:`build_tables`, ``sql/marts/run_report.sql``, the previous version
ATTACHed read-only); the file (:func:`write_run_report`, HTML + XLSX, linked from ``index.html`` and from every
report's note) and the portal's page (pipelines/web/pages.py ``run_report_page``) read them through :func:`view`.
Nothing in it depends on the clock: dates are the as-of dates and the version ids of the records.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from pipelines.publish import masking
from pipelines.publish.masking import Masking
from pipelines.publish.writers import (BORDER, HEADER_FILL, as_of_stamp, display_width, freeze_xlsx, print_font,
                                      print_setup)
from pipelines.store import Store, attach_read_only, dicts, table_exists

STEM = "run-report"
TITLE = "运行报告"
HTML_NAME, XLSX_NAME = f"{STEM}.html", f"{STEM}.xlsx"
# the note every report carries points here (pipelines/reports/families.py quality_notes)
NOTE_REF = "（见运行报告）"
ROWS_SHOWN = 50          # refused rows listed per file on the page; the workbook lists every one

OUTCOME_CN = {"loaded": "已导入", "rejected": "整份拒收", "duplicate": "重复文件（未再导入）", "ignored": "未读取",
              "template": "模板文件夹"}

# the previous version's tables the comparison reads, and the columns it needs of each
_PREVIOUS = {
    "rr_prev_batches": ("raw.batches", "batch_id"),
    "rr_prev_status": ("marts.persons", "person_key, status, registered, grid_code, as_of"),
    "rr_prev_issues": ("quality.issues", "issue_id, community_code, status"),
}


def build_tables(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date, version: str | None,
                 previous: Path | None = None, base_version: str | None = None) -> dict:
    """marts.run_meta / run_files / run_sources / run_changes / run_transitions for this run, ``previous`` (the
    base version's store file) ATTACHed read-only for the comparison; without one, the comparison is with nothing.
    A previous version without marts.persons (written before the marts, 2026-12-06) is named, not compared."""
    attached = earlier = False
    if previous is not None and Path(previous).exists():
        attach_read_only(conn, "rr_prev", previous)
        attached = True
        earlier = not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'rr_prev' "
                                   "AND schema_name = 'marts' AND table_name = 'persons'").fetchall()[0][0]
    try:
        for view, (table, columns) in _PREVIOUS.items():
            # an earlier version's batches still say which files this run read first (raw.batches is as old as
            # the store): only the comparison of persons and issues, which reads marts, is left out
            compared = attached and (not earlier or table == "raw.batches")
            source = f"rr_prev.{table}" if compared else f"(SELECT {columns} FROM {table} WHERE false)"
            conn.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {columns} FROM {source}")
        Store.run_sql(conn, "marts/run_report.sql", as_of=as_of, version=version,
                      base_version=base_version if attached and not earlier else None,
                      earlier_version=base_version if earlier else None)
    finally:
        for view in _PREVIOUS:
            conn.execute(f"DROP VIEW IF EXISTS {view}")
        if attached:
            conn.execute("DETACH rr_prev")
    return {"files": conn.execute("SELECT count(*) FROM marts.run_files").fetchall()[0][0]}


def named(text: str, file: str) -> str:
    """A report note's reference to the run report, naming its file (a workbook has no link)."""
    return text.replace(NOTE_REF, f"（见运行报告 {file}）")


def unnamed(value):
    """A cell with the run report's file name taken out of its reference (see :func:`named`)."""
    return re.sub(r"（见运行报告 [^）]+）", NOTE_REF, value) if isinstance(value, str) else value


def available(conn: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(conn, "marts.run_files") and table_exists(conn, "marts.run_meta")


def _template_titles() -> dict[str, str]:
    from pipelines.sources import load_catalog

    return {t.name: t.title for t in load_catalog()}


def file_answer(path: str, message: str | None) -> str:
    """Why an inbox file or a row was answered so (raw.inbox_files, raw.batches, raw.row_errors messages) without
    the path it starts with — the line showing it names the path — scrubbed of IDs and phones: a refusal may quote
    the file's cells. (`onceonly run` prints the same.)"""
    message = message or ""
    if message.startswith(path):
        message = message[len(path):].lstrip(" ：:")
    return masking.mask_text(message.removeprefix("未导入：").removeprefix("未读取："))


def view(conn: duckdb.DuckDBPyConnection, *, communities: list[str] | None = None, m: Masking = masking.DEFAULT,
         rows_shown: int | None = ROWS_SHOWN) -> dict:
    """What the run report shows: ``communities`` limits the comparison and the refused rows to a user's
    jurisdiction (None: all; the file list is the street office's, as on the portal's runs page); quoted cell
    values are masked by their field's class as grant ``m`` shows it."""
    from pipelines.quality.queue import masked_issue
    from pipelines.quality.rules import rule_title

    titles = _template_titles()
    meta = dicts(conn.execute("SELECT * FROM marts.run_meta"))[0]
    files = dicts(conn.execute("SELECT * FROM marts.run_files WHERE kind = 'file' OR outcome = 'ignored' "
                                "ORDER BY path"))
    for f in files:
        f["source"] = titles.get(f["template"] or "", f["template"] or "—")
        outcome = OUTCOME_CN.get(f["outcome"], f["outcome"])
        if f["outcome"] == "loaded" and not f["new_batch"]:
            outcome = "此前已导入"
        elif f["outcome"] == "rejected" and not f["new_batch"]:
            outcome = "整份拒收（此前已拒收）"
        if f["kind"] == "folder":
            outcome = "文件夹未读取"
        f["outcome_cn"] = outcome
        if f["outcome"] == "loaded":
            f["why"] = (f"读取 {f['rows_read']} 行，导入 {f['rows_loaded']} 行" +
                        (f"，拒收 {f['rows_rejected']} 行" + ("（见下文）" if f["new_batch"] else "（见数据问题清单）")
                         if f["rows_rejected"] else ""))
        else:
            f["why"] = file_answer(f["path"], f["message"])
    # what needs the clerk first: refused and unread files, then this run's, then those read before
    files.sort(key=lambda f: (0 if f["outcome"] in ("rejected", "ignored", "duplicate") else
                              1 if f["new_batch"] else 2, f["path"]))
    counts = {o: sum(1 for f in files if f["kind"] == "file" and f["outcome"] == o)
              for o in ("loaded", "rejected", "duplicate", "ignored")}
    counts["new"] = sum(1 for f in files if f["new_batch"] and f["outcome"] == "loaded")
    counts["files"] = sum(1 for f in files if f["kind"] == "file")
    counts["folders_ignored"] = sum(1 for f in files if f["kind"] == "folder")

    # refused rows of the batches this run read: per file and reason, then the rows themselves; for a user of
    # some communities only the rows the steward queue places in them (as the queue shows them)
    new = "(SELECT batch_id, path FROM marts.run_files WHERE new_batch AND outcome = 'loaded')"
    located = "" if communities is None else """
        AND EXISTS (SELECT 1 FROM quality.issues i WHERE i.batch_id = e.batch_id AND i.row_no = e.row_no
                    AND i.rule = e.rule AND i.field IS NOT DISTINCT FROM e.field
                    AND list_contains($communities, i.community_code))"""
    located_params = {} if communities is None else {"communities": list(communities)}
    by_rule = dicts(conn.execute(f"""
        SELECT f.path, e.rule, count(DISTINCT e.row_no) AS rows, min(e.row_no) AS first_row
        FROM raw.row_errors e JOIN {new} f USING (batch_id)
        WHERE e.severity = 'reject' {located} GROUP BY ALL ORDER BY f.path, rows DESC, e.rule""", located_params))
    for r in by_rule:
        r["rule_cn"] = rule_title(r["rule"])
    limit = "" if rows_shown is None else f"QUALIFY row_number() OVER (PARTITION BY f.path ORDER BY e.row_no, e.field) <= {int(rows_shown)}"
    errors = dicts(conn.execute(f"""
        SELECT f.path, e.row_no, e.record_no, e.field, e.value, e.rule, e.message
        FROM raw.row_errors e JOIN {new} f USING (batch_id)
        WHERE e.severity = 'reject' {located} {limit}
        ORDER BY f.path, e.row_no, e.field NULLS FIRST, e.rule""", located_params))
    errors = [masked_issue(e, m) for e in errors]
    for e in errors:
        e["rule_cn"] = rule_title(e["rule"])
        e["message"] = file_answer(e["path"], e["message"])
    warned = conn.execute(f"""SELECT count(DISTINCT (e.batch_id, e.row_no)) FROM raw.row_errors e
                              JOIN {new} f USING (batch_id) WHERE e.severity = 'warn' {located}""",
                           located_params).fetchall()[0][0]
    sources = dicts(conn.execute("SELECT * FROM marts.run_sources ORDER BY template"))
    for s in sources:
        s["source"] = titles.get(s["template"], s["template"])

    where = "" if communities is None else "WHERE list_contains(?, community_code)"
    params = [] if communities is None else [list(communities)]
    changes = [c for c in dicts(conn.execute(
        f"SELECT * FROM marts.run_changes {where} ORDER BY community_code NULLS LAST", params))
        if c["community_code"] is not None or any(v for k, v in c.items() if isinstance(v, int))]
    transitions = dicts(conn.execute(f"""
        SELECT status_before, status_now, sum(persons)::BIGINT AS persons FROM marts.run_transitions {where}
        GROUP BY ALL ORDER BY persons DESC, status_before, status_now""", params))
    totals = {k: sum(c[k] for c in changes) for k in (changes[0] if changes else {}) if k.endswith(
        ("_before", "_now", "_new", "_changed", "_present", "_opened", "_closed"))}
    return {"meta": meta, "files": files, "counts": counts, "by_rule": by_rule, "errors": errors,
            "rows_shown": rows_shown, "warned": warned, "sources": sources, "changes": changes,
            "transitions": transitions, "totals": totals, "unit": _unit(conn), "scoped": communities is not None}


def _unit(conn) -> str:
    from pipelines.reports import _unit as report_unit

    return report_unit(conn, None)


def as_of_cn(d: dt.date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else "—"


def write_run_report(conn: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    """``run-report.html`` and ``run-report.xlsx`` in ``out_dir`` (the reports of the run), the whole store's,
    values masked as the operator's defaults show them. Nothing when the store holds no run tables."""
    if not available(conn):
        return []
    from pipelines.reports.render import _env

    data = view(conn)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / HTML_NAME
    html.write_text(_env().get_template("run_report.html.j2").render(**data, as_of_cn=as_of_cn, standalone=True,
                                                                     xlsx=XLSX_NAME), encoding="utf-8")
    xlsx = _write_xlsx(conn, data, out_dir / XLSX_NAME)
    return [html, xlsx]


def _write_xlsx(conn, data: dict, path: Path) -> Path:
    """The same content as sheets, every refused row listed (the page shows the first ROWS_SHOWN per file)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    meta = data["meta"]
    wb = Workbook()
    wb.remove(wb.active)
    head_font, body_font = print_font(bold=True), print_font()

    def sheet(title: str, columns: list[str], rows: list[list], note: str = "") -> None:
        ws = wb.create_sheet(title)
        ws.append([f"{TITLE}：{title}"])
        ws.append([f"填报单位：{data['unit']}　　统计截止日期：{as_of_cn(meta['as_of'])}　　数据版本：{meta['version'] or '—'}"
                   + (f"　　上一版本：{meta['base_version']}（截止 {as_of_cn(meta['base_as_of'])}）" if meta["has_base"]
                      else f"　　上一版本：{meta['earlier_version']}（由较早版本的 onceonly 写成，不作比较）"
                      if meta.get("earlier_version") else "　　上一版本：无")])
        ws.append(columns)
        for cell in ws[1]:
            cell.font = print_font(bold=True, size=14)
        for cell in ws[3]:
            cell.font, cell.fill, cell.border = head_font, HEADER_FILL, BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for r in rows:
            ws.append([masking.mask_text(v) if isinstance(v, str) else v for v in r])
        for row in ws.iter_rows(min_row=4, max_row=3 + len(rows)):
            for cell in row:
                cell.font, cell.border = body_font, BORDER
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if not rows:
            ws.append(["（无）"])
        if note:
            ws.append([])
            ws.append([note])
        wrapped = False
        for i, col in enumerate(columns, start=1):
            # a long header wraps: the column is as wide as its values (a count's header over two lines)
            width = max([min(display_width(col), 8)] + [display_width(r[i - 1]) for r in rows[:500]])
            width = min(48, max(6, width)) + 2
            wrapped |= display_width(col) + 1 > width
            ws.column_dimensions[ws.cell(3, i).column_letter].width = width
        if wrapped:
            ws.row_dimensions[3].height = 30
        print_setup(ws, 3)

    sheet("收件箱文件", ["文件", "来源", "结果", "说明"],
          [[f["path"], f["source"], f["outcome_cn"], f["why"]] for f in data["files"]])
    sheet("各来源统计", ["来源", "本次导入文件", "本次拒收文件", "本次读取行", "本次导入行", "本次拒收行",
                    "累计已导入文件", "累计拒收文件", "累计导入行", "累计拒收行"],
          [[s["source"], s["files_new"], s["files_rejected_new"], s["rows_read_new"], s["rows_loaded_new"],
            s["rows_rejected_new"], s["files_loaded"], s["files_rejected"], s["rows_loaded"], s["rows_rejected"]]
           for s in data["sources"]])
    full = view(conn, rows_shown=None)["errors"]
    sheet("拒收的数据行", ["文件", "行号", "记录编号", "字段", "问题", "说明"],
          [[e["path"], e["row_no"], e["record_no"], e["field"], e["rule_cn"], e["message"]] for e in full],
          note="本次新导入文件中被拒收的每一行；其余行已导入。修正原文件后重新放入收件箱即可再次导入。")
    if meta["has_base"]:
        sheet("与上一版本比较", ["社区", "登记人口(上次)", "登记人口(本次)", "实有人口(上次)", "实有人口(本次)",
                           "待核实(上次)", "待核实(本次)", "新增人员", "状态变化", "新计入实有", "不再计入实有",
                           "待处理问题(上次)", "待处理问题(本次)", "新发现问题", "已解决问题"],
              [[c["community_name"], c["registered_before"], c["registered_now"], c["present_before"],
                c["present_now"], c["unverified_before"], c["unverified_now"], c["persons_new"],
                c["status_changed"], c["became_present"], c["left_present"], c["issues_open_before"],
                c["issues_open_now"], c["issues_opened"], c["issues_closed"]] for c in data["changes"]])
        sheet("状态变化", ["上一版本状态", "本版本状态", "人数"],
              [[t["status_before"], t["status_now"], t["persons"]] for t in data["transitions"]])
    wb.properties.creator = "onceonly"
    wb.properties.title = TITLE
    wb.properties.created = as_of_stamp(meta["as_of"])
    wb.save(path)
    freeze_xlsx(path, as_of_stamp(meta["as_of"]))
    return path

