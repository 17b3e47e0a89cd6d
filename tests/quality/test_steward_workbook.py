"""The fixes workbook as a community steward works with it: exported, filled through openpyxl the way a person
fills it (an 18-digit ID typed as a number and as text, a house chosen for an address, a sheet that can only be
waived), applied, applied again before and after a rebuild, and the history read back."""
from __future__ import annotations

import datetime as dt
import re

from openpyxl import load_workbook

from pipelines.publish.masking import Masking
from pipelines.quality import (apply_workbook, build_queue, decision_line, export_workbook, list_issues, progress,
                               validate)
from pipelines.quality.rules import rule_title
from pipelines.quality.values import cell_text
from pipelines.sources import load_catalog

from .conftest import ID_A, ID_TYPO

AS_OF = dt.date(2026, 10, 31)


def _sheet(wb, rule):
    ws = wb[rule_title(rule)]
    col = {c.value: c.column for c in ws[2]}
    return ws, col


def _fill(ws, col, row, fix=None, action=None, reason=None):
    ws.cell(row, col["修正值"]).value = fix
    ws.cell(row, col["处理方式"]).value = action
    ws.cell(row, col["原因"]).value = reason


def test_a_steward_fills_the_workbook_and_gets_the_same_answer_before_and_after_a_run(small_store, tmp_path):
    out = tmp_path / "fixes.xlsx"
    with small_store.connect() as conn:
        # the floating registration whose address names two houses (core.address_matches of the fixture)
        conn.execute("INSERT INTO raw.floating (batch_id, row_no, record_no, name, current_address) "
                     "VALUES ('b_flo', 2, 'F1', '赵六', '金沙路1号1栋')")
        validate(conn, as_of=AS_OF)
        build_queue(conn)
        n = export_workbook(conn, out, masking=Masking(name="姓氏"))
    assert n > 0
    wb = load_workbook(out)

    # what the steward reads: Chinese source names, the file and row, the person (masked per grant), no hashes
    ws, col = _sheet(wb, "id_invalid")
    row = [c.value for c in ws[3]]
    assert row[col["来源"] - 1] == "实有人口"
    assert row[col["文件"] - 1] == "residents/2026-09 金沙社区.csv" and row[col["行号"] - 1] == 3
    assert row[col["姓名"] - 1] == "张*"                                   # the grant shows surnames only
    assert row[col["公民身份号码"] - 1] == ID_TYPO[:6] + "********" + ID_TYPO[-4:]
    for sheet in wb.worksheets[1:]:
        for values in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and re.search(r"[0-9a-f]{32}", v) for v in values), values
            assert ID_A not in values and ID_TYPO not in values
    # each sheet says what to do in its first row; 修正值 is text; IDs are length-checked where Excel can
    problems = [s for s in wb.worksheets[1:] if s.title != "候选房屋"]
    kinds = {s.title: s["A1"].value[:s["A1"].value.index("】") + 1] for s in problems}
    assert kinds[rule_title("id_invalid")] == "【修正或忽略】"
    assert kinds[rule_title("address_multi_match")] == "【选择房屋】"
    assert kinds[rule_title("microgrid_households_implausible")] == "【仅可忽略】"
    assert all(s.cell(r, _sheet(wb, "id_invalid")[1]["修正值"]).number_format == "@"
               for s in problems for r in range(3, s.max_row + 1))
    assert any(dv.type == "textLength" and dv.formula1 == "18" for dv in ws.data_validations.dataValidation)
    addr, acol = _sheet(wb, "address_multi_match")
    assert [dv.formula1 for dv in addr.data_validations.dataValidation if str(dv.sqref) == f"{addr.cell(3, acol['修正值']).coordinate}"] \
        == ["'候选房屋'!$D$2:$D$3"]                                        # a choice of houses, not free text
    assert [r[3] for r in wb["候选房屋"].iter_rows(min_row=2, values_only=True)] == [
        "H1 金沙路1号1栋1单元101", "H2 金沙路1号1栋1单元102"]                  # picked by address
    waive_only, wcol = _sheet(wb, "microgrid_households_implausible")
    assert waive_only.cell(3, wcol["修正值"]).protection.locked is True
    assert any(dv.formula1 == '"忽略"' for dv in waive_only.data_validations.dataValidation)

    # the steward fills it in
    _fill(ws, col, 3, int(ID_A), "修正", "核对身份证原件")                   # typed into a General cell: a number
    amb, bcol = _sheet(wb, "link_ambiguous")
    _fill(amb, bcol, 3, ID_A, "修正", "核对身份证原件")                       # typed as text: exact
    _fill(addr, acol, 3, "100", "修正", "走访核实")                         # not a candidate house
    _fill(waive_only, wcol, 3, None, "忽略", "新建小区，户数正在增长")
    wb.save(out)
    with small_store.connect() as conn:
        first = apply_workbook(conn, out, by="月安二社区 王芳")
    why = {s: w for s, _, _, w in first.refused}
    assert set(why) == {rule_title("id_invalid"), rule_title("address_multi_match")}
    assert "当成了数字" in why[rule_title("id_invalid")] and "长度" not in why[rule_title("id_invalid")]
    assert "不是这条地址的候选房屋" in why[rule_title("address_multi_match")]
    assert {s for s, _, _ in first.accepted} == {rule_title("link_ambiguous"),
                                                  rule_title("microgrid_households_implausible")}

    # typed again as text, the house chosen from the drop-down
    _fill(ws, col, 3, ID_A, "修正", "核对身份证原件")
    _fill(addr, acol, 3, "H1 金沙路1号1栋1单元101", "修正", "走访核实")       # as picked from the drop-down
    wb.save(out)
    with small_store.connect() as conn:
        second = apply_workbook(conn, out, by="月安二社区 王芳")
        assert second.refused == [] and len(second.accepted) == 2 and second.unchanged == 2
        assert conn.execute("SELECT new_value FROM quality.active_corrections WHERE field = 'id_number'"
                            ).fetchall() == [(ID_A,), (ID_A,)]                     # the 18 digits, exact
        assert conn.execute("SELECT current_address FROM quality.corrected_floating WHERE row_no = 2"
                            ).fetchall() == [("金沙路1号1栋1单元101",)]          # the chosen house's address
        n_decided = conn.execute("SELECT count(*) FROM quality.active_corrections").fetchall()[0][0]
        before_run = apply_workbook(conn, out, by="月安二社区 王芳")

        build_queue(conn)                                                      # the next run's rebuild
        after_run = apply_workbook(conn, out, by="月安二社区 王芳")
        assert conn.execute("SELECT count(*) FROM quality.active_corrections").fetchall()[0][0] == n_decided
        runs = conn.execute("SELECT run_no, closed, corrections_in_force, corrections_new FROM quality.queue_runs "
                            "ORDER BY run_no").fetchall()
        fixed = list_issues(conn, status="fixed")
        seen = conn.execute("SELECT min(first_seen) FROM quality.issues").fetchall()[0][0]
        built = [r[0] for r in conn.execute("SELECT built_at FROM quality.queue_runs ORDER BY run_no").fetchall()]
        progressed = progress(conn, community="金沙社区")
    # the steward's progress: per kind, the oldest open issue found at the first rebuild, the trend per rebuild
    kinds = {rule: counts for rule, *counts in progressed["kinds"]}
    assert kinds["id_invalid"][1] == 1 and kinds["microgrid_households_implausible"] == [0, 0, 1]
    assert seen <= built[0] < built[1] and progressed["oldest"][2] == seen   # kept from the first rebuild
    assert len(progressed["trend"]) == 2
    assert progressed["trend"][0][2] > progressed["trend"][1][2]            # fewer open after the run
    # the same answer before and after the run, naming the rows already in force
    for again in (before_run, after_run):
        assert again.accepted == [] and again.refused == []
        assert sorted(again.already) == sorted(second.already + second.accepted)
    # closed: the 4 decided issues (3 fixed, 1 waived); in force: 2 cells (the ID fixed twice, the address)
    assert len(runs) == 2 and runs[-1][1] == 4 and runs[-1][2] == 2 and runs[-1][3] == n_decided == 4

    # the history: who, when, old and new value, and the rebuild that applied it
    mine = {i["rule"]: i for i in fixed if i["decided_by"] == "月安二社区 王芳"}
    assert {"id_invalid", "link_ambiguous", "address_multi_match"} <= set(mine)
    assert mine["id_invalid"]["old_value"] == ID_TYPO and mine["id_invalid"]["new_value"] == ID_A
    assert mine["id_invalid"]["applied_in_run"] == 2
    line = decision_line(mine["address_multi_match"])
    assert "月安二社区 王芳" in line and "金沙路1号1栋1单元101" in line and "第 2 次重新计算起生效" in line


def test_what_a_cell_holds_is_read_as_the_steward_meant_it():
    catalog = load_catalog()
    id_field, date_field = catalog["residents"].field("id_number"), catalog["residents"].field("birth_date")
    # Excel's own number for an 18-digit ID (15 significant digits): refused with the reason, never "长度错误"
    for typed in (float(ID_A[:15] + "000"), int(ID_A[:17])):
        value, why = cell_text(typed, id_field)
        assert value is None and "当成了数字" in why and "15位" in why
    assert cell_text(ID_A, id_field) == (ID_A, None)
    assert cell_text(dt.datetime(2024, 3, 5), date_field) == ("2024-03-05", None)   # a date typed as a date
    assert cell_text(3.0, catalog["assistance"].field("covered_persons")) == ("3", None)
    assert cell_text("  ", id_field) == (None, None)
