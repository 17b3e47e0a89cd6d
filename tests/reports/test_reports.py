"""Reports as a clerk opens them: XLSX headers, totals, masking, suppression, print setup; byte-for-byte re-render."""
from __future__ import annotations

import csv
import datetime as dt
import re

import openpyxl
import pytest

AS_OF = dt.date(2026, 10, 31)
from pipelines.publish import GrantRefused
from pipelines.publish.audit import handouts
from pipelines.reports import FAMILIES, render_all, render_report

from .conftest import hiding_nothing

HEADER_ROW = 4


def table(ws):
    """Header and body rows (up to the blank row before the quality note)."""
    header = [c for c in next(ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True))]
    body = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if all(v is None for v in row):
            break
        body.append(list(row))
    return header, body


def test_every_report_renders_html_and_xlsx_and_index(rendered):
    out, paths = rendered
    names = {p.name for p in paths}
    for name in FAMILIES:
        assert f"{name}.html" in names and f"{name}.xlsx" in names
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "实有人口统计月报" in index and "residents/2026-10 金沙社区.xlsx" in index
    assert "坏文件" not in index       # rejected batches are not lineage


def test_every_xlsx_has_title_unit_date_frozen_header_and_a4_landscape(rendered):
    out, paths = rendered
    for p in paths:
        if p.suffix != ".xlsx":
            continue
        wb = openpyxl.load_workbook(p)
        for ws in wb.worksheets:
            assert ws["A1"].value and ws["A2"].value.startswith("填报单位：")
            assert "统计截止日期：2026年10月31日" in ws["A3"].value
            assert ws.freeze_panes == "A5"
            assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize in ("9", 9)
            header, body = table(ws)
            assert all(isinstance(h, str) and h for h in header)
            assert body[-1][0].startswith("合计")
            notes = [c.value for c in ws["A"] if isinstance(c.value, str)]
            assert "数据质量说明：" in notes
            # no unmasked 18-digit ID anywhere in a report
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    assert not (isinstance(v, str) and re.fullmatch(r"\d{17}[\dX]", v)), (p.name, v)


def test_population_monthly_totals(rendered, conn):
    out, _ = rendered
    wb = openpyxl.load_workbook(out / "population-monthly.xlsx")
    ws = wb.worksheets[0]
    header, body = table(ws)
    assert header[:5] == ["社区", "网格", "网格类型", "实有人口", "户籍人口"]
    total = body[-1]
    expected = conn.execute("""SELECT count(*) FILTER (WHERE status = '在住'), count(*) FILTER (WHERE registered),
                                      count(*) FILTER (WHERE status = '待核实') FROM core.person_status""").fetchall()[0]
    assert (total[3], total[header.index("登记人口")], total[header.index("待核实")]) == expected
    g2 = next(r for r in body if r[1] == "金沙二网格")
    assert (g2[3], g2[header.index("登记人口")], g2[header.index("待核实")]) == (200, 1600, 1400)
    changes_header, changes = table(wb["本期变动"])
    assert changes_header == ["社区", "本期迁入", "本期离开", "本期死亡"]


def test_population_monthly_under_the_configured_disclosure_rule(conn, tmp_path):
    # every published count is 0, >= 5 or withheld: an empty cell in a number column, never the text "<5"
    from pipelines.reports import sdc

    paths = render_report(conn, "population-monthly", out_dir=tmp_path, as_of=AS_OF, home=tmp_path)
    ws = openpyxl.load_workbook(paths[1]).worksheets[0]
    header, body = table(ws)
    rule = sdc.rule()
    withheld = 0
    for row in body:
        for h, v in zip(header[3:], row[3:]):
            assert v is None or v == 0 or (isinstance(v, int) and (v >= rule.min_count or h == "登记与实有差额")), (h, v)
            withheld += v is None
    assert withheld
    # the 合计 row still counts everybody
    expected = conn.execute("SELECT count(*) FILTER (WHERE status = '在住') FROM core.person_status").fetchall()[0][0]
    assert body[-1][3] == expected
    notes = " ".join(c.value for c in ws["A"] if isinstance(c.value, str))
    assert rule.note in notes and "<5" not in notes


def test_period_changes_are_dated_by_the_deciding_evidence_in_the_month(conn, tmp_path):
    # P07's first presence is 2026-10-05 (its 注销 is after D); P10's deciding 迁出 2026-10-10; P09 died
    # 2026-10-03. P15 left by a September 迁出: an October visit at a house not his own decides nothing.
    paths = render_report(conn, "population-monthly", out_dir=tmp_path, as_of=AS_OF, home=tmp_path)
    ws = openpyxl.load_workbook(paths[1])["本期变动"]
    header, body = table(ws)
    raw = {r[0]: r[1:] for r in conn.execute(
        "SELECT 社区, 本期迁入, 本期离开, 本期死亡 FROM r_pop_changes").fetchall()}
    assert raw["金沙社区"] == (1, 1, 1)
    assert raw["银杏社区"] == (0, 0, 0)
    # the same month, seen on 2026-10-09: P10's 迁出 (10 Oct) has not happened yet
    from pipelines.reports.families import run_sql
    run_sql(conn, FAMILIES["population-monthly"], dt.date(2026, 10, 9))
    raw = {r[0]: r[1:] for r in conn.execute("SELECT 社区, 本期迁入, 本期离开, 本期死亡 FROM r_pop_changes").fetchall()}
    assert raw["金沙社区"][1] == 0
    run_sql(conn, FAMILIES["population-monthly"], AS_OF)


def test_grid_standards_flags_households_and_the_seed_case(rendered):
    out, _ = rendered
    wb = openpyxl.load_workbook(out / "grid-standards.xlsx")
    header, body = table(wb["网格户数"])
    by_code = {r[1]: r for r in body[:-1]}
    assert by_code["G2"][header.index("户数")] == 520 and by_code["G2"][header.index("结论")] == "超标"
    assert by_code["G1"][header.index("结论")] == "偏少"
    assert by_code["G3"][header.index("结论")].startswith("不适用")
    assert body[-1][header.index("户数")] == sum(r[header.index("户数")] for r in body[:-1])
    header, body = table(wb["网格人口（登记与实有对照）"])
    assert header[3:8] == ["登记人口", "实有人口", "待核实", "登记超1500", "实有超1500"]
    g2 = next(r for r in body if r[1] == "G2")
    assert g2[3:8] == [1600, 200, 1400, "是", "否"]
    assert g2[header.index("处理建议")].startswith("登记超标但核实未超")
    assert next(r for r in body if r[1] == "G1")[header.index("处理建议")] is None     # nothing to do: blank
    header, body = table(wb["微网格户数"])
    assert next(r for r in body if r[2] == "M2")[header.index("结论")] == "超标"


def test_assistance_check_report_money_total_and_masked_ids(rendered):
    out, _ = rendered
    wb = openpyxl.load_workbook(out / "assistance-check.xlsx")
    header, body = table(wb.worksheets[0])
    assert header == ["社区", "状态", "记录数", "人数", "月救助金额"]
    assert {(r[0], r[1]): r[2] for r in body[:-1]} == {("金沙社区", "死亡"): 1, ("金沙社区", "已离开"): 1,
                                                       ("金沙社区", "待核实"): 1}
    assert body[-1][4] == pytest.approx(800 + 1200.50 + 650)
    header, rows = read_list(out / "assistance-check-list.csv")
    assert header == ["记录编号", "公民身份号码", "姓名", "救助类别", "月救助金额", "状态", "依据"]
    assert [r[5] for r in rows] == ["死亡", "已离开", "待核实"]
    assert all(re.fullmatch(r"\d{6}\*{8}\d{4}", r[1]) for r in rows)
    assert sum(float(r[4]) for r in rows) == pytest.approx(800 + 1200.50 + 650)


def test_courtyard_contacts_print_a_phone_in_full_only_with_consent(rendered):
    out, _ = rendered
    header, rows = read_list(out / "courtyard-profile-contacts.csv")
    assert header == ["社区", "小区", "楼栋", "姓名", "身份", "联系电话"]
    # 赵六 consented (公开联系方式 是); 褚十四 said 否: masked as the grant says
    assert {r[3]: r[5] for r in rows} == {"赵六": "13912345678", "褚十四": "136****4321"}
    notes = " ".join(c.value for c in openpyxl.load_workbook(out / "courtyard-profile.xlsx")["小区概况"]["A"]
                     if isinstance(c.value, str))
    assert "其中 1 人在实有人口采集时同意公开联系方式" in notes
    wb = openpyxl.load_workbook(out / "courtyard-profile.xlsx")
    header, body = table(wb["小区概况"])
    assert body[-1][header.index("楼栋长")] == 1 and body[-1][header.index("居民骨干")] == 1


def read_list(path):
    """A person list's rows as a clerk sees them: the lists are written for a double-click, a code or phone as ="…"
    (tests/publish/test_spreadsheet_csv.py opens them in LibreOffice)."""
    def shown(v: str) -> str:
        return v[2:-1].replace('""', '"') if v.startswith('="') and v.endswith('"') else v
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = [[shown(v) for v in r] for r in csv.reader(f)]
    return rows[0], rows[1:]


def test_floating_report_lists_expiring_permits_and_unregistered_migrants(rendered):
    out, _ = rendered
    header, rows = read_list(out / "floating-stats-expiring.csv")
    assert [r[header.index("姓名")] for r in rows] == ["钱七"]
    header, rows = read_list(out / "floating-stats-unregistered.csv")
    assert [r[header.index("姓名")] for r in rows] == ["孙八"]
    wb = openpyxl.load_workbook(out / "floating-stats.xlsx")
    header, body = table(wb["按户籍省份"])
    assert {r[0]: r[1] for r in body[:-1]} == {"广东省": 1, "湖北省": 1}
    header, body = table(wb["按网格：居住证到期与未登记"])
    assert (body[-1][header.index("居住证30天内到期")], body[-1][header.index("从未登记")]) == (1, 1)


LISTS = {  # report -> {list key: (summary sheet, summary column counting that list's rows)}
    "elderly-80plus": {"list": ("按网格统计", "80岁以上")},
    "health-key-groups": {"children": ("按网格统计", "0-6岁儿童"), "elderly": ("按网格统计", "65岁及以上老人")},
    "school-age-children": {"list": ("按网格统计", "适龄儿童")},
    "emergency-vulnerable": {"list": ("按小区统计", "重点人员")},
    "disability-check": {"list": ("在住残疾人（按社区、残疾类别）", "在住残疾人"),
                         "check": ("需核查（死亡、已离开、待核实或无法关联）", "记录数")},
    "assistance-check": {"list": ("按社区、状态统计", "记录数")},
    "floating-stats": {"expiring": ("按网格：居住证到期与未登记", "居住证30天内到期"),
                       "unregistered": ("按网格：居住证到期与未登记", "从未登记")},
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_person_lists_are_masked_csv_files_the_report_counts_and_names(rendered, name):
    out, paths = rendered
    wb = openpyxl.load_workbook(out / f"{name}.xlsx")
    for key, (sheet, column) in LISTS[name].items():
        path = out / f"{name}-{key}.csv"
        assert path in paths
        assert path.read_bytes().startswith("\ufeff".encode("utf-8"))     # Excel opens Chinese CSV only with a BOM
        header, rows = read_list(path)
        for i, h in enumerate(header):
            values = [r[i] for r in rows if r[i]]
            if h == "公民身份号码":
                assert all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", v) for v in values), values
            if h == "联系电话":
                assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", v) for v in values), values
        sh, body = table(wb[sheet])
        assert body[-1][sh.index(column)] == len(rows), (name, key)
        notes = " ".join(c.value for c in wb[sheet]["A"] if isinstance(c.value, str))
        assert f"{name}-{key}.csv" in notes and f"共 {len(rows)} 条" in notes


def test_person_lists_hold_who_the_extracts_hold(rendered, conn):
    out, _ = rendered
    header, rows = read_list(out / "elderly-80plus-list.csv")
    assert sorted(r[header.index("姓名")] for r in rows) == ["李老", "陈十三"]
    header, rows = read_list(out / "health-key-groups-children.csv")
    assert {r[header.index("姓名")] for r in rows} == {"张一", "张二", "张三"}     # 0-6 inclusive
    header, rows = read_list(out / "school-age-children-list.csv")
    assert [r[header.index("姓名")] for r in rows] == ["张二"]      # the September 2027 enrolment
    ws = openpyxl.load_workbook(out / "school-age-children.xlsx")["按网格统计"]
    assert "2027年秋季入学适龄儿童名单" in ws["A1"].value
    notes = " ".join(c.value for c in ws["A"] if isinstance(c.value, str))
    assert "2026—2027 学年" in notes and "2020年9月1日至2021年8月31日出生" in notes
    header, rows = read_list(out / "emergency-vulnerable-list.csv")
    assert header[:4] == ["社区名称", "小区", "楼栋", "居住地址"]
    assert len(rows) == 5 and [r[:4] for r in rows] == sorted(r[:4] for r in rows)     # walkable building by building


def test_disability_check_cites_the_status_basis_of_each_linked_record(rendered, conn):
    # 依据 comes from marts.persons (rp_persons leaves that long text out)
    out, _ = rendered
    expected = dict(conn.execute("""
        SELECT s.record_no, ps.basis
        FROM staging.disability s
        JOIN core.person_links l ON l.record_key = 'disability:' || s.batch_id || ':' || s.row_no
        JOIN core.person_status ps ON ps.person_key = l.person_key""").fetchall())
    cited = {}
    for key in ("list", "check"):
        header, rows = read_list(out / f"disability-check-{key}.csv")
        cited.update({r[header.index("记录编号")]: r[header.index("依据")] for r in rows if r[header.index("状态")]})
    assert cited and cited == {k: v for k, v in expected.items() if k in cited}
    assert all(cited.values())


def test_rendering_twice_gives_identical_bytes(rendered, conn, tmp_path):
    out, paths = rendered
    with hiding_nothing():
        again = render_all(conn, out_dir=tmp_path, as_of=AS_OF, home=tmp_path)
    assert [p.name for p in again] == [p.name for p in paths]
    for a, b in zip(paths, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_department_reports_follow_the_registry(conn, tmp_path):
    with pytest.raises(GrantRefused, match="无权获取报表"):
        render_report(conn, "population-monthly", out_dir=tmp_path, as_of=AS_OF, home=tmp_path, dept="教育")
    paths = render_report(conn, "population-monthly", out_dir=tmp_path, as_of=AS_OF, home=tmp_path, dept="社区", scope="金沙社区")
    ws = openpyxl.load_workbook(paths[1]).worksheets[0]
    assert ws["A2"].value == "填报单位：金沙社区"
    _, body = table(ws)
    assert {r[0] for r in body[:-1]} == {"金沙社区"}
    recorded = handouts(tmp_path, dt.datetime(2000, 1, 1))
    assert len([h for h in recorded if h["kind"] == "report" and h["department"] == "社区"]) == 2
    # a community's list file holds its own people only, under a name carrying the scope
    paths = render_report(conn, "elderly-80plus", out_dir=tmp_path, as_of=AS_OF, home=tmp_path, dept="社区", scope="河滨社区")
    assert [p.name for p in paths] == ["elderly-80plus_C3.html", "elderly-80plus_C3.xlsx", "elderly-80plus_C3-list.csv"]
    header, rows = read_list(paths[2])
    assert [r[header.index("姓名")] for r in rows] == ["陈十三"]
    audited = [(h["name"], h["format"], h["row_count"]) for h in handouts(tmp_path, dt.datetime(2000, 1, 1))
               if h["file_path"] == str(paths[2])]
    assert audited == [("elderly-80plus-list", "csv", 1)]


def test_newest_row_key_orders_dates_before_1900_too(conn):
    # a 采集日期 typed as 1850 (or 0001) is a valid date: it is the oldest row, not an error
    from pipelines.marts import build_output_marts
    build_output_marts(conn, as_of=AS_OF)       # defines newest_key (sql/marts/persons.sql) on this connection
    assert conn.execute(
        "SELECT newest_key(DATE '0001-01-01', 9) < newest_key(DATE '1850-01-01', 1), "
        "newest_key(DATE '1850-01-01', 9) < newest_key(NULL, 1), "   # no date counts as 1900-01-01
        "newest_key(DATE '2026-01-01', 1) < newest_key(DATE '2026-01-01', 2)").fetchall() == [(True, True, True)]


@pytest.mark.slow   # every report for many jurisdictions, rendered in two orders
def test_a_jurisdictions_files_do_not_depend_on_what_was_rendered_before(conn, tmp_path):
    """One preparation serves every jurisdiction in turn (narrow() keeps the whole store's tables aside): each
    jurisdiction's files are byte-identical to those of a fresh connection, in any order, and so is the whole store's."""
    from pipelines.publish.grants import WHOLE, resolve_scope
    from pipelines.publish.masking import DEFAULT
    from pipelines.reports import report_files
    from pipelines.store import worker_connection

    names = ["population-monthly", "elderly-80plus", "courtyard-profile", "floating-stats"]
    scopes = [resolve_scope(conn, None, code) for code in ("C1", "S1", "C3", "C2", "S2")] + [WHOLE]

    def files(c, scope, name, out):
        return {h["path"].name: h["path"].read_bytes()
                for h in report_files(c, name, out_dir=out, as_of=AS_OF, scope=scope, shown=DEFAULT)}

    one = worker_connection(conn)
    try:
        for i, scope in enumerate(scopes + scopes[::-1]):
            for name in names:
                fresh = worker_connection(conn)
                try:
                    expected = files(fresh, scope, name, tmp_path / f"fresh-{i}")
                finally:
                    fresh.close()
                assert files(one, scope, name, tmp_path / f"turn-{i}") == expected, (scope, name)
    finally:
        one.close()
