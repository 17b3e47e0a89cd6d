"""`explain`: the person, their source rows, the evidence and the reasoning, in Chinese."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines.status import build_evidence, build_status, explain
from tests.status.status_world import status_of

D = dt.date
AS_OF = D(2026, 10, 31)
ID = "510104199001010019"


@pytest.fixture
def moved(world):
    conn, w = world
    w.grid("MG1", "G1")
    w.house("H1", "MG1")
    w.house("H2", "MG1")
    w.resident("P1", D(2025, 6, 1), "H1", record_no="R1", batch="金沙社区", id_number=ID)
    w.visit("P1", D(2026, 3, 1), "H1", "已搬离", record_no="V7", id_number=ID)
    w.visit("P1", D(2026, 4, 1), "H2", "查无此人", id_number=ID)
    w.death("P1", D(2027, 1, 1), record_no="D1", id_number=ID)
    build_evidence(conn)
    build_status(conn, as_of=AS_OF)
    return conn


def test_explain_left(moved):
    text = explain(moved, "P1", as_of=AS_OF)
    assert "510104********0019" in text and ID not in text
    assert "状态 已离开" in text
    assert "residents/金沙社区.csv 第2行" in text
    assert "记录编号 V7" in text
    assert "最近在住证据：2025-06-01 实有人口采集（residents/金沙社区.csv 第2行，记录编号 R1）；" in text
    assert "此后 2026-03-01 网格员走访该房屋（H1）结果为“已搬离”" in text
    assert "因此判定为已离开" in text
    assert "不是当前房屋的走访，与本人无关，不计入" in text     # the H2 visit
    assert "晚于 2026-10-31，不计入" in text                 # the 2027 death


def test_explain_agrees_with_person_status_and_leaves_it_alone(moved):
    before = status_of(moved, "P1")
    text = explain(moved, ID, as_of=D(2026, 1, 1))          # by ID number, another D
    assert "状态 在住" in text and "因此判定为在住" in text
    assert status_of(moved, "P1") == before
    assert "状态 死亡" in explain(moved, "P1", as_of=D(2027, 1, 1))
    assert "因此判定为待核实" in explain(moved, "P1", as_of=D(2026, 1, 1), freshness_days=30)


def test_explain_unknown_person(moved):
    with pytest.raises(LookupError, match="未找到人员"):
        explain(moved, "P404", as_of=AS_OF)


def test_explain_lists_evidence_that_does_not_count(world):
    conn, w = world
    w.grid("MG1", "G1")
    w.house("H1", "MG1")
    w.floating("P1", D(2026, 1, 1), None, record_no="F1")                  # address matched no house
    w.floating("P1", D(2025, 1, 1), "H1", dereg=D(2025, 6, 1), record_no="F2")  # 注销, no reason
    w.hukou("P1", "正常", record_no="K1")
    build_evidence(conn)
    text = explain(conn, "P1", as_of=AS_OF)
    assert "地址未匹配到房屋，不算在住证据" in text
    assert "已于 2025-06-01 注销，不再算在住证据" in text
    assert "流动人口注销 2025-06-01 注销原因未填写 (记录编号 F2)" in text
    assert "户籍登记 户籍状态正常 (记录编号 K1)" in text
    assert "状态 待核实" in text and "因此判定为待核实" in text


def _check_char(first17: str) -> str:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * x for c, x in zip(first17, w)) % 11]


def test_explain_names_the_house_address_and_the_grid_beside_their_codes(moved):
    text = explain(moved, "P1", as_of=D(2026, 1, 1))
    assert "当前房屋：H1 H1号" in text
    assert "所在网格：G1网格（网格编码 G1），微网格 MG1微网格（MG1）" in text
    assert "房屋 H2（H2号）" in text and "房屋 H1（当前房屋）" in text      # evidence names other houses by address
    assert "计入实有人口：是——状态在住，计入当前房屋所在的 G1网格（G1）" in text


def test_explain_says_why_a_person_counts_in_registered_and_verified_population(moved, world):
    conn, w = world
    text = explain(moved, "P1", as_of=AS_OF)                 # 已离开 by a visit only: the police have not deregistered
    assert "计入实有人口：否——状态为已离开" in text
    assert "计入登记人口：是——" in text and "走访已发现离开，但公安尚未注销" in text and "注销核查建议" in text
    assert status_of(moved, "P1")["registered"] is True
    assert "计入登记人口：否——已死亡" in explain(moved, "P1", as_of=D(2027, 1, 1))
    stale = explain(moved, "P1", as_of=D(2026, 1, 1), freshness_days=30)
    assert "计入实有人口：否——状态为待核实" in stale and "登记人口不看证据时效" in stale
    w.person("P2")
    w.resident("P2", D(2025, 6, 1), "H2", record_no="R2")
    w.hukou("P2", "迁出", D(2026, 5, 1), record_no="K9")
    w.person("P3")
    w.resident("P3", D(2026, 6, 1), "H404", record_no="R3")       # a house the housing table does not hold
    build_evidence(conn)
    build_status(conn, as_of=AS_OF)
    gone = explain(conn, "P2", as_of=AS_OF)
    assert "计入登记人口：否——已被公安注销：" in gone and "K9" in gone
    assert status_of(conn, "P2")["registered"] is False
    lost = explain(conn, "P3", as_of=AS_OF)
    assert "当前房屋：H404 （该房屋不在实有房屋表中）" in lost
    assert "计入实有人口：否——状态在住，但当前房屋不在实有房屋表或网格表中" in lost


def test_explain_tells_an_invalid_id_from_an_unknown_person(moved):
    wrong_check = ID[:17] + ("8" if ID[17] != "8" else "7")
    with pytest.raises(LookupError, match="不是有效的公民身份号码：第18位校验码与前17位对不上"):
        explain(moved, wrong_check, as_of=AS_OF)
    with pytest.raises(LookupError, match="应为18位（旧号码15位），这里是 17 位"):
        explain(moved, ID[:17], as_of=AS_OF)
    with pytest.raises(LookupError, match="被 Excel 改成数字"):
        explain(moved, "5.10104E+17", as_of=AS_OF)
    unknown = "11010119900307001" + _check_char("11010119900307001")     # valid, nobody's here
    with pytest.raises(LookupError, match="格式、校验码都正确，但库中没有任何记录"):
        explain(moved, unknown, as_of=AS_OF)
    with pytest.raises(LookupError, match="^未找到人员：“P404”"):
        explain(moved, "P404", as_of=AS_OF)
