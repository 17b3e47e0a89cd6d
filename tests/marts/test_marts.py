"""Contract §3 extracts' tables: grid-population, person-sources, assistance-check."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines.marts import build_marts
from pipelines.status import build_evidence, build_status

D = dt.date
AS_OF = D(2026, 10, 31)

GRID_COLUMNS = ["区县代码", "街道代码", "社区代码", "网格编码", "网格名称", "网格类型", "实有人口", "户籍人口",
                "流动人口", "境外人员", "待核实人数", "登记人口", "实有房屋", "有人居住房屋"]


def run(conn, as_of=AS_OF):
    build_evidence(conn)
    build_status(conn, as_of=as_of)
    build_marts(conn, as_of=as_of)


def table(conn, name):
    cur = conn.execute(f"SELECT * FROM marts.{name}")
    cols = [d[0] for d in cur.description]
    return cols, [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture
def street(world):
    conn, w = world
    w.grid("MG1", "G1", community="C1")
    w.grid("MG2", "G1", community="C1")          # two micro-grids, one grid
    w.grid("MG3", "G2", community="C1", grid_type="专属网格")
    w.grid("MG4", "G3", community="C2")          # no houses, no people
    for h, mg in (("H1", "MG1"), ("H2", "MG2"), ("H3", "MG2"), ("H4", "MG3"), ("H5", "MG3")):
        w.house(h, mg)
    return conn, w


def test_grid_population(street):
    conn, w = street
    w.resident("A", D(2026, 6, 1), "H1", category="户籍人口")
    w.hukou("A", "正常")
    w.resident("B", D(2026, 6, 1), "H1", category="流动人口")
    w.floating("C", D(2026, 1, 1), "H2")
    w.resident("E", D(2026, 6, 1), "H2", category="境外人员")
    w.resident("F", D(2026, 6, 1), "H3", category="未落户人员")   # 在住, in no category column
    w.resident("G", D(2024, 1, 1), "H3")                          # 待核实, still 登记人口
    w.resident("M", D(2026, 1, 1), "H4")
    w.visit("M", D(2026, 5, 1), "H4", "已搬离")                   # 已离开, still 登记人口
    w.resident("N", D(2026, 1, 1), "H4")
    w.hukou("N", "迁出", D(2026, 5, 1))                           # 已离开, not 登记人口
    w.resident("X", D(2026, 1, 1), "H5")
    w.death("X", D(2026, 2, 1))                                   # 死亡
    w.hukou("Y", "正常")                                           # 待核实 without a grid
    run(conn)
    cols, rows = table(conn, "grid_population")
    assert cols == GRID_COLUMNS
    by_grid = {r["网格编码"]: r for r in rows}
    assert list(by_grid) == ["G1", "G2", "G3"]
    g1 = by_grid["G1"]
    assert (g1["区县代码"], g1["街道代码"], g1["社区代码"], g1["网格名称"], g1["网格类型"]) == \
        ("510104", "S1", "C1", "G1网格", "一般网格")
    assert [g1[c] for c in GRID_COLUMNS[6:]] == [5, 1, 2, 1, 1, 6, 3, 3]
    assert [by_grid["G2"][c] for c in GRID_COLUMNS[6:]] == [0, 0, 0, 0, 0, 1, 2, 0]
    assert by_grid["G2"]["网格类型"] == "专属网格"
    assert [by_grid["G3"][c] for c in GRID_COLUMNS[6:]] == [0] * 8


def test_person_sources(street):
    conn, w = street
    w.resident("A", D(2026, 6, 1), "H1", record_no="R1")
    w.visit("A", D(2026, 7, 1), "H1", "在住", record_no="V1")
    w.death("B", D(2026, 1, 1))
    w.resident(None, D(2026, 6, 1), "H1", record_no="R2")          # left for stewards
    w.resident("Z", D(2027, 1, 1), "H1")                            # no record on D yet
    run(conn)
    cols, rows = table(conn, "person_sources")
    assert cols == ["人员主键", "来源", "批次", "行号", "记录编号", "状态"]
    # the mart is not sorted (the extract orders its rows)
    assert sorted(((r["人员主键"], r["来源"], r["批次"], r["行号"], r["记录编号"], r["状态"]) for r in rows), key=repr) \
        == sorted([
            ("A", "residents", "residents-b1", 2, "R1", "在住"),
            (None, "residents", "residents-b1", 3, "R2", None),
            ("Z", "residents", "residents-b1", 4, None, None),
            ("A", "visits", "visits-b1", 2, "V1", "在住"),
            ("B", "deaths", "deaths-b1", 2, None, "死亡"),
        ], key=repr)


def test_assistance_check_active_window_and_status(street):
    conn, w = street
    ID = "510104199001010019"
    w.resident("OK", D(2026, 6, 1), "H1")
    w.assistance("OK", D(2026, 1, 1), record_no="A0")                    # 在住: not listed
    w.death("DEAD", D(2026, 3, 2), record_no="D0012")
    w.assistance("DEAD", D(2026, 1, 1), record_no="A1", id_number=ID, name="李四", amount="812.50")
    w.assistance("DEAD", D(2025, 1, 1), D(2026, 10, 30), record_no="A2")  # ended the day before D
    w.assistance("DEAD", D(2025, 1, 1), AS_OF, record_no="A3")            # ends on D: active
    w.assistance("DEAD", AS_OF, record_no="A4")                           # starts on D: active
    w.assistance("DEAD", D(2026, 11, 1), record_no="A5")                  # starts after D
    w.resident("OLD", D(2024, 1, 1), "H1")
    w.assistance("OLD", D(2024, 1, 1), record_no="A6")                    # 待核实
    w.resident("GONE", D(2026, 1, 1), "H1")
    w.visit("GONE", D(2026, 5, 1), "H1", "已搬离")
    w.assistance("GONE", D(2024, 1, 1), record_no="A7", kind="特困供养")    # 已离开
    w.assistance(None, D(2024, 1, 1), record_no="A8")                      # unlinked: stewards
    run(conn)
    cols, rows = table(conn, "assistance_check")
    assert cols == ["记录编号", "公民身份号码", "姓名", "救助类别", "月救助金额", "状态", "依据"]
    assert [(r["记录编号"], r["状态"]) for r in rows] == [
        ("A1", "死亡"), ("A3", "死亡"), ("A4", "死亡"), ("A7", "已离开"), ("A6", "待核实")]
    a1 = rows[0]
    assert (a1["公民身份号码"], a1["姓名"], a1["救助类别"], str(a1["月救助金额"])) == (ID, "李四", "城市低保", "812.50")
    assert a1["依据"] == "死亡登记 2026-03-02 (记录编号 D0012)"
    assert rows[3]["救助类别"] == "特困供养" and "已搬离" in rows[3]["依据"]


def test_assistance_record_judged_on_its_newest_version(street):
    conn, w = street
    w.death("DEAD", D(2026, 3, 2))
    w.batch("assistance", "jan", loaded_on=D(2026, 1, 5))
    w.batch("assistance", "oct", loaded_on=D(2026, 10, 5))
    w.assistance("DEAD", D(2025, 1, 1), record_no="A1", batch="jan")
    w.assistance("DEAD", D(2025, 1, 1), D(2026, 3, 31), record_no="A1", batch="oct")  # civil affairs ended it
    w.assistance("DEAD", D(2025, 1, 1), record_no="A2", batch="jan")
    w.assistance("DEAD", D(2025, 1, 1), record_no="A2", batch="oct")
    run(conn)
    _, rows = table(conn, "assistance_check")
    assert [r["记录编号"] for r in rows] == ["A2"]


def test_build_marts_follows_the_requested_date(street):
    conn, w = street
    w.resident("A", D(2025, 6, 1), "H1")
    build_evidence(conn)
    build_status(conn, as_of=D(2026, 1, 1))
    build_marts(conn, as_of=D(2026, 1, 1))
    assert table(conn, "grid_population")[1][0]["实有人口"] == 1
    build_marts(conn, as_of=AS_OF)                    # status rebuilt for the new date
    g1 = table(conn, "grid_population")[1][0]
    assert (g1["实有人口"], g1["待核实人数"], g1["登记人口"]) == (0, 1, 1)
    assert conn.execute("SELECT DISTINCT as_of FROM core.person_status").fetchall() == [(AS_OF,)]
