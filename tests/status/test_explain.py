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
