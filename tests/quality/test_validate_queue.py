"""Suites, validation, the steward queue, the workbook round trip and the scorecard, on a real store."""
from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook

from pipelines.quality import (apply_workbook, build_queue, export_workbook, revert_correction, scorecard,
                               validate)
from pipelines.quality.rules import rule_title
from pipelines.quality.validate import suite_docs
from pipelines.sources import TEMPLATE_ORDER
from pipelines.quality.workbook import issue_id_in_cell

from .conftest import ID_A, ID_TYPO

AS_OF = dt.date(2026, 10, 31)


def test_every_suite_names_its_level_and_says_what_it_checks_in_chinese():
    docs = suite_docs()
    assert {f"staging_{t}" for t in TEMPLATE_ORDER} <= set(docs)        # one per template, from sources/*.yaml
    for name, doc in docs.items():
        for e in doc["expectations"]:
            assert e["meta"]["level"] in ("structural", "row-level"), name
            assert e["meta"]["description_zh"], name


def test_validate_blocks_on_structural_and_keeps_failing_rows(small_store, tmp_path):
    with small_store.connect() as conn:
        conn.execute("DROP TABLE staging.visits")      # a template never loaded into this store
        results = {r.suite: r for r in validate(conn, docs_dir=tmp_path / "docs", as_of=AS_OF)}
        assert results["staging_visits"].skipped                       # no table yet: skipped, not failed
        assert results["core_houses"].blocking == ["house_orphan"]     # H9's micro-grid MGX does not exist
        assert results["staging_residents"].blocking == []             # row-level problems only warn
        assert results["core_person_links"].success and results["raw_batches"].success
        fails = conn.execute("SELECT rule, row_no, value FROM quality.expectation_failures "
                             "WHERE suite = 'staging_residents' ORDER BY rule").fetchall()
        assert fails == [("date_future", 4, "2027-01-01"), ("house_unknown", 4, "H3"), ("id_invalid", 3, ID_TYPO),
                         ("phone_invalid", 3, "12345"), ("value_unknown", 3, "户籍")]
        assert conn.execute("SELECT row_key FROM quality.expectation_failures WHERE rule = 'age_over_110'"
                            ).fetchall() == [("P3",)]
        # a second run replaces, never accumulates, the failing rows
        validate(conn, ["staging_residents"], as_of=AS_OF)
        assert conn.execute("SELECT count(*) FROM quality.expectation_failures WHERE suite = 'staging_residents'"
                            ).fetchall()[0][0] == 5
    index = (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
    assert "阻断" in index and "core_houses" in index
    assert "microgrid_code" in (tmp_path / "docs" / "validations" / "core_houses.html").read_text(encoding="utf-8")


def _issues(conn):
    return {r[1]: r for r in conn.execute(
        "SELECT issue_id, rule, community_code, row_no, value, suggested_fix, status FROM quality.issues").fetchall()}


def test_an_issue_is_placed_by_its_own_row_before_its_files_other_rows(small_store):
    """The queue locates only the rows it lists (sql/quality/queue.sql semi-joins q_row_location with them): a
    reader's warning on row 3, whose record lives in 银河社区 (C2), belongs to C2 although the file's other rows
    are in 金沙社区 (C1); the rejected row 5 (no record) belongs to its file's community. Locating none, or the
    wrong rows, puts row 3 in C1."""
    with small_store.connect() as conn:
        conn.execute("""
            INSERT INTO core.houses BY NAME SELECT 'H5' AS house_code, 'MG2' AS microgrid_code,
                '银河路5号' AS std_address, 'b_house' AS batch_id, 5 AS row_no;
            UPDATE core.person_records SET house_code = 'H5' WHERE record_key = 'residents:b_res1:3';
            UPDATE core.person_records SET house_code = 'H2' WHERE record_key = 'residents:b_res1:4';
            INSERT INTO raw.row_errors BY NAME SELECT 'b_res1' AS batch_id, 'residents' AS template, 3 AS row_no,
                'R2' AS record_no, '联系电话' AS field, 'phone' AS column_name, '12345' AS value,
                'phone_format' AS rule, 'warn' AS severity, '联系电话格式不对' AS message""")
        validate(conn, as_of=AS_OF)
        build_queue(conn)
        assert dict(conn.execute("SELECT rule, community_code FROM quality.issues "
                                 "WHERE rule IN ('phone_format', 'date_invalid')").fetchall()) == {
            "phone_format": "C2", "date_invalid": "C1"}


def test_a_fix_settles_the_same_records_error_in_a_later_file(small_store):
    """The queue reads the reader's errors through the fixes' overlay when a fix stands (and raw.row_errors as they
    are only when none does): a later file repeating R4's invalid 出生日期, already fixed, adds no issue of its own.
    Reading raw.row_errors with the fix in force lists it a second time."""
    with small_store.connect() as conn:
        validate(conn, as_of=AS_OF)
        build_queue(conn)
        issue = conn.execute("SELECT issue_id FROM quality.issues WHERE rule = 'date_invalid'").fetchall()[0][0]
        conn.execute("INSERT INTO raw.batches SELECT * REPLACE ('b_res2' AS batch_id, 'residents/2026-10 金沙社区.csv' "
                     "AS file_name) FROM raw.batches WHERE batch_id = 'b_res1'")
        conn.execute("INSERT INTO raw.residents SELECT * REPLACE ('b_res2' AS batch_id) FROM raw.residents "
                     "WHERE batch_id = 'b_res1'")
        conn.execute("INSERT INTO raw.row_errors SELECT * REPLACE ('b_res2' AS batch_id) FROM raw.row_errors "
                     "WHERE batch_id = 'b_res1'")
        build_queue(conn)
        assert conn.execute("SELECT batch_id, status FROM quality.issues WHERE rule = 'date_invalid' ORDER BY 1"
                            ).fetchall() == [("b_res1", "open"), ("b_res2", "open")]
        conn.execute("INSERT INTO quality.corrections VALUES ('c1', ?, 'residents', 'b_res1', 5, 'R4', 'birth_date', "
                     "'2024-02-30', '2024-02-28', 'fix', '户口本', '王小二', TIMESTAMP '2026-10-30 09:00')", [issue])
        build_queue(conn)
        assert conn.execute("SELECT batch_id, status FROM quality.issues WHERE rule = 'date_invalid' ORDER BY 1"
                            ).fetchall() == [("b_res1", "fixed")]
        assert conn.execute("SELECT corrections_in_force FROM quality.queue_runs ORDER BY run_no DESC LIMIT 1"
                            ).fetchall() == [(1,)]


def test_queue_workbook_round_trip(small_store, tmp_path):
    with small_store.connect() as conn:
        validate(conn, as_of=AS_OF)
        n_open = build_queue(conn)
        issues = _issues(conn)
        assert {"date_invalid", "link_ambiguous", "link_unlinkable", "address_multi_match", "id_invalid",
                "house_orphan", "age_over_110"} <= set(issues)
        assert issues["link_ambiguous"][5] == ID_A                     # the likely person's valid ID
        assert issues["date_invalid"][2] == "C1"                       # via the file's other rows
        assert issues["address_multi_match"][5] == "H1;H2"
        ids_before = {r[0] for r in issues.values()}
        build_queue(conn)
        assert {r[0] for r in _issues(conn).values()} == ids_before     # stable across rebuilds

        out = tmp_path / "fixes.xlsx"
        assert export_workbook(conn, out, community="金沙社区") > 0
        wb = load_workbook(out)
        assert wb.sheetnames[0] == "填写说明"
        ws = wb["无法确定是哪个人"]          # sheets are named for stewards, not by rule code
        assert ws["A1"].value.startswith("【修正或忽略】")       # the sheet's own instruction line
        header = [c.value for c in ws[2]]
        col = {h: i + 1 for i, h in enumerate(header)}
        assert ws.protection.sheet
        assert ws.cell(3, col["修正值"]).protection.locked is False
        assert ws.cell(3, col["修正值"]).number_format == "@"
        assert ws.cell(3, col["错误值"]).protection.locked is True
        assert any('"修正,忽略"' == dv.formula1 for dv in ws.data_validations.dataValidation)
        assert any("户籍人口" in (dv.formula1 or "") for dv in wb["取值不在范围内"].data_validations.dataValidation)

        def edit(rule, fix=None, action=None, reason=None):
            s = wb[rule_title(rule)]
            s.cell(3, col["修正值"]).value = fix
            s.cell(3, col["处理方式"]).value = action
            s.cell(3, col["原因"]).value = reason
        edit("link_ambiguous", ID_A, "修正", "核对身份证")
        edit("date_invalid", "2024年2月28日", "修正", "户口本")
        edit("id_invalid", "12345", "修正", "")              # refused: not a valid ID
        edit("phone_invalid", None, "忽略", "座机号码，已核实")
        edit("value_unknown", "火星人口", "修正", "")          # refused: not in the code list
        wb.save(out)

        res = apply_workbook(conn, out, by="王小二")
        assert sorted(s for s, _, _ in res.accepted) == sorted(rule_title(r) for r in ("date_invalid", "link_ambiguous", "phone_invalid"))
        assert {s: why for s, _, _, why in res.refused}.keys() == {rule_title("id_invalid"), rule_title("value_unknown")}
        assert "身份证号码无效" in dict((s, w) for s, _, _, w in res.refused)[rule_title("id_invalid")]
        again = apply_workbook(conn, out, by="王小二")
        assert again.accepted == [] and again.unchanged == 3
        assert conn.execute("SELECT count(*) FROM quality.corrections").fetchall()[0][0] == 3

        # staging's view of raw: fixed cells replaced; the rejected row's error is gone
        rows = dict(conn.execute("SELECT row_no, id_number FROM quality.corrected_residents").fetchall())
        assert rows[3] == ID_A and rows[2] == ID_A
        assert conn.execute("SELECT birth_date, corrected_columns FROM quality.corrected_residents WHERE row_no = 5"
                            ).fetchall() == [("2024-02-28", ["birth_date"])]
        assert conn.execute("SELECT count(*) FROM quality.effective_row_errors").fetchall()[0][0] == 0

        # a fresh export repeating the old wrong ID for the same 记录编号 is corrected too
        conn.execute("INSERT INTO raw.batches SELECT * REPLACE ('b_res2' AS batch_id) FROM raw.batches "
                     "WHERE batch_id = 'b_res1'")
        conn.execute("INSERT INTO raw.residents SELECT * REPLACE ('b_res2' AS batch_id) FROM raw.residents "
                     "WHERE batch_id = 'b_res1'")
        assert conn.execute("SELECT id_number FROM quality.corrected_residents WHERE batch_id = 'b_res2' "
                            "AND row_no = 3").fetchall() == [(ID_A,)]
        n_after = build_queue(conn)
        after = _issues(conn)
        assert after["phone_invalid"][6] == "waived" and after["link_ambiguous"][6] == "fixed"
        # fixing R2's ID also settles the id_invalid issue on the same cell; the fixed date's reject is gone
        assert after["id_invalid"][6] == "fixed" and after["date_invalid"][6] == "fixed"   # kept listed once fixed
        assert n_after == n_open - 4

        assert revert_correction(conn, issues["link_ambiguous"][0], by="管理员", reason="核实有误")
        assert conn.execute("SELECT id_number FROM quality.corrected_residents WHERE batch_id = 'b_res1' "
                            "AND row_no = 3").fetchall() == [(ID_TYPO,)]
        assert conn.execute("SELECT count(*) FROM quality.corrections WHERE action = 'revert'").fetchall()[0][0] == 1


def test_scorecard(small_store):
    with small_store.connect() as conn:
        rows = {(r["template"], r["community_code"]): r for r in scorecard(conn, AS_OF)}
    res = rows[("residents", "C1")]
    assert res["evidence_age_days"] == 41 and res["rows_loaded"] == 3 and res["rows_rejected"] == 1
    assert abs(res["share_valid_ids"] - 1 / 3) < 1e-9
    assert rows[("floating", None)]["share_addresses_matched"] == 0.0
    assert rows[("housing", "C1")]["records"] == 2


def test_issue_ids_are_letters_and_decisions_under_the_old_hex_ids_stay_attached(small_store):
    """An issue id with an 11-digit run reads as a mobile number to every output's masking, so ids are letters;
    a waiver recorded under the hex id a store built before 2026-12-07 gave the issue still settles it, and a
    workbook of then still names it."""
    with small_store.connect() as conn:
        validate(conn, as_of=AS_OF)
        build_queue(conn)
        ids = [r[0] for r in conn.execute("SELECT issue_id FROM quality.issues").fetchall()]
        assert ids and all(len(i) == 16 and i.isalpha() and i.isupper() for i in ids)
        [(issue_id, what)] = conn.execute(
            "SELECT issue_id, concat_ws('|', rule, coalesce(template, ''), coalesce(batch_id, ''), "
            "coalesce(CAST(row_no AS VARCHAR), ''), coalesce(row_key, ''), coalesce(column_name, ''), "
            "coalesce(value, '')) FROM quality.issues WHERE rule = 'phone_invalid'").fetchall()
        [(legacy, upgraded)] = conn.execute("SELECT left(md5(?), 16), upgraded_issue_id(left(md5(?), 16))",
                                            [what, what]).fetchall()
        assert legacy != issue_id and upgraded == issue_id == issue_id_in_cell(f" {legacy} ")
        assert issue_id_in_cell(issue_id) == issue_id
        conn.execute("INSERT INTO quality.corrections (correction_id, issue_id, action, reason, \"by\", \"at\") "
                     "VALUES ('c-legacy', ?, 'waive', '座机号码', '王小二', TIMESTAMP '2026-11-01 09:00:00')", [legacy])
        validate(conn, as_of=AS_OF)        # the next run respells the store's old ids once
        build_queue(conn)
        assert conn.execute("SELECT status FROM quality.issues WHERE issue_id = ?", [issue_id]).fetchall() == [("waived",)]
        assert conn.execute("SELECT issue_id FROM quality.corrections WHERE correction_id = 'c-legacy'"
                            ).fetchall() == [(issue_id,)]
