"""Contract §2 "Status as of a date D", one test per rule and per decided edge case."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines.status import build_evidence, build_status
from tests.status.status_world import status_of

D = dt.date
AS_OF = D(2026, 10, 31)


def run(conn, as_of=AS_OF, window=365):
    build_evidence(conn)
    build_status(conn, as_of=as_of, freshness_days=window)


@pytest.fixture
def w(world):
    conn, w = world
    w.grid("MG1", "G1")
    w.grid("MG2", "G2")
    for h, mg in (("H1", "MG1"), ("H2", "MG1"), ("H3", "MG2")):
        w.house(h, mg)
    return conn, w


def test_fresh_census_row_is_present_at_its_house(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1", record_no="R0001")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["house_code"], s["microgrid_code"], s["grid_code"]) == ("在住", "H1", "MG1", "G1")
    assert s["presence_date"] == D(2026, 6, 1) and s["as_of"] == AS_OF
    assert s["basis"] == "实有人口采集 2026-06-01 户籍人口 (记录编号 R0001)"
    assert s["registered"] is True


def test_freshness_window_boundary(w):
    conn, w = w
    w.resident("IN", AS_OF - dt.timedelta(days=365), "H1")
    w.resident("OUT", AS_OF - dt.timedelta(days=366), "H1", record_no="R9")
    run(conn)
    assert status_of(conn, "IN")["status"] == "在住"
    out = status_of(conn, "OUT")
    assert out["status"] == "待核实"
    assert out["basis"] == "最近一次在住证据为 2025-10-30 的实有人口采集 (记录编号 R9)，已超过 365 天未核实"
    run(conn, window=400)
    assert status_of(conn, "OUT")["status"] == "在住"


def test_visit_present_is_presence(w):
    conn, w = w
    w.resident("P1", D(2024, 1, 1), "H1")
    w.visit("P1", D(2026, 9, 12), "H2", "在住", record_no="V0001")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["house_code"]) == ("在住", "H2")
    assert s["basis"] == "走访记录 2026-09-12 在住 (记录编号 V0001)"


@pytest.mark.parametrize("result", ["已搬离", "人户分离", "查无此人"])
def test_departure_visit_at_p_house_after_p_means_left(w, result):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1", record_no="R1")
    w.visit("P1", D(2026, 9, 1), "H1", result, record_no="V1")
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "已离开"
    assert s["basis"] == (f"走访记录 2026-09-01 {result} (记录编号 V1)，"
                          f"晚于最近在住证据 2026-06-01 实有人口采集 (记录编号 R1)")
    assert s["house_code"] == "H1" and s["registered"] is True  # 登记人口 ignores visits


def test_departure_visit_at_another_house_says_nothing(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1")
    w.visit("P1", D(2026, 9, 1), "H3", "已搬离")
    run(conn)
    assert status_of(conn, "P1")["status"] == "在住"


def test_moved_house_then_old_house_visit_says_moved_out(w):
    conn, w = w
    w.resident("P1", D(2025, 1, 1), "H1")
    w.resident("P1", D(2026, 5, 1), "H3")
    w.visit("P1", D(2026, 8, 1), "H1", "已搬离")  # the old house: true, but not about now
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["house_code"], s["grid_code"]) == ("在住", "H3", "G2")


def test_departure_before_p_does_not_count(w):
    conn, w = w
    w.visit("P1", D(2026, 1, 1), "H1", "已搬离")
    w.resident("P1", D(2026, 6, 1), "H1")
    run(conn)
    assert status_of(conn, "P1")["status"] == "在住"


def test_departure_on_the_same_day_as_p_is_not_newer(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1")
    w.visit("P1", D(2026, 6, 1), "H1", "已搬离")
    run(conn)
    assert status_of(conn, "P1")["status"] == "在住"


def test_departure_without_presence_means_left(w):
    conn, w = w
    w.hukou("P1", "迁出", D(2026, 2, 1), record_no="H7")
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "已离开" and s["house_code"] is None and s["registered"] is False
    assert s["basis"] == "户籍登记 2026-02-01 户籍状态迁出 (记录编号 H7)，此前无在住证据"


def test_hukou_moved_out_after_presence_means_left(w):
    conn, w = w
    w.resident("P1", D(2026, 3, 1), "H1")
    w.hukou("P1", "注销", D(2026, 4, 1))
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "已离开" and s["registered"] is False


def test_hukou_moved_out_before_presence_still_lives_here(w):
    conn, w = w
    w.hukou("P1", "迁出", D(2025, 1, 1))
    w.resident("P1", D(2026, 3, 1), "H1", category="未落户人员")
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "在住"
    assert s["category"] == "未落户人员"      # hukou not 正常 on D
    assert s["registered"] is False           # deregistered by hukou 迁出, however old


def test_visit_departure_needs_p(w):
    conn, w = w
    w.hukou("P1", "正常")
    w.visit("P1", D(2026, 9, 1), "H1", "查无此人")
    run(conn)
    assert status_of(conn, "P1")["status"] == "待核实"


@pytest.mark.parametrize("source", ["deaths", "hukou", "floating", "visits"])
def test_each_death_source_means_dead(w, source):
    conn, w = w
    w.resident("P1", D(2026, 9, 30), "H1")   # newer presence does not undo a death
    day = D(2026, 3, 2)
    if source == "deaths":
        w.death("P1", day, record_no="D0012")
    elif source == "hukou":
        w.hukou("P1", "死亡", day, record_no="D0012")
    elif source == "floating":
        w.floating("P1", D(2025, 1, 1), "H1", dereg=day, reason="死亡", record_no="D0012")
    else:
        w.visit("P1", day, "H3", "已死亡", record_no="D0012")   # at any house
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "死亡" and s["registered"] is False
    assert "2026-03-02" in s["basis"] and "记录编号 D0012" in s["basis"]
    if source == "deaths":
        assert s["basis"] == "死亡登记 2026-03-02 (记录编号 D0012)"


def test_death_register_is_cited_before_other_death_evidence(w):
    conn, w = w
    w.visit("P1", D(2026, 3, 1), "H1", "已死亡")
    w.death("P1", D(2026, 3, 2), record_no="D1")
    run(conn)
    assert status_of(conn, "P1")["basis"] == "死亡登记 2026-03-02 (记录编号 D1)"


def test_death_after_d_is_ignored(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1")
    w.death("P1", D(2026, 11, 5))
    run(conn)
    assert status_of(conn, "P1")["status"] == "在住"
    run(conn, as_of=D(2026, 11, 5))
    assert status_of(conn, "P1")["status"] == "死亡"


def test_only_hukou_is_unverified(w):
    conn, w = w
    w.hukou("P1", "正常", D(2010, 5, 1), house="H1", record_no="H1")
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "待核实" and s["category"] == "户籍人口"
    assert s["house_code"] is None and s["registered"] is False   # hukou is not presence
    assert s["basis"] == "仅有户籍登记，无在住证据：户籍登记 2010-05-01 户籍状态正常 (记录编号 H1)"


def test_floating_registration_is_presence(w):
    conn, w = w
    w.floating("P1", D(2026, 2, 1), "H2", record_no="F1")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["house_code"], s["category"]) == ("在住", "H2", "流动人口")


def test_residence_permit_valid_on_d_is_presence_dated_d(w):
    conn, w = w
    w.resident("P1", D(2023, 1, 1), "H1")
    w.floating("P1", D(2022, 1, 1), "H3", permit=AS_OF, record_no="F1")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["presence_date"], s["house_code"]) == ("在住", AS_OF, "H3")
    assert s["basis"] == "居住证有效期至 2026-10-31，截至 2026-10-31 仍有效 (记录编号 F1)"
    run(conn, as_of=AS_OF + dt.timedelta(days=1))     # expired the day before D
    s = status_of(conn, "P1")
    assert s["status"] == "待核实" and s["presence_date"] == D(2023, 1, 1) and s["house_code"] == "H1"


def test_registration_deregistered_on_or_before_d_gives_no_presence(w):
    conn, w = w
    w.floating("P1", D(2026, 1, 1), "H1", permit=D(2027, 12, 31), dereg=D(2026, 10, 31), reason="离开本地",
               record_no="F1")
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "已离开" and s["presence_date"] is None and s["registered"] is False
    assert s["basis"].startswith("流动人口注销 2026-10-31 注销原因离开本地 (记录编号 F1)")
    assert s["category"] == "流动人口"


def test_registration_deregistered_after_d_still_counts_on_d(w):
    conn, w = w
    w.floating("P1", D(2026, 1, 1), "H1", permit=D(2027, 12, 31), dereg=D(2026, 11, 1), reason="离开本地")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["presence_date"], s["registered"]) == ("在住", AS_OF, True)


def test_any_deregistration_removes_from_registered_population(w):
    conn, w = w
    w.floating("P1", D(2024, 1, 1), "H1", dereg=D(2026, 1, 1), reason="转为户籍")
    w.hukou("P1", "正常", D(2026, 1, 1))
    w.resident("P1", D(2026, 2, 1), "H1")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["category"], s["registered"]) == ("在住", "户籍人口", False)


def test_deregistration_without_a_reason_ends_the_registration_only(w):
    conn, w = w
    w.resident("P1", D(2026, 1, 1), "H1")
    w.floating("P1", D(2026, 2, 1), "H2", permit=D(2027, 1, 1), dereg=D(2026, 6, 1))
    run(conn)
    s = status_of(conn, "P1")
    # no presence from the registration, no departure either: P is the census row
    assert (s["status"], s["house_code"], s["registered"]) == ("在住", "H1", False)


def test_a_reason_without_a_deregistration_date_does_not_deregister(w):
    conn, w = w
    w.floating("P1", D(2026, 2, 1), "H2", reason="离开本地")
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["house_code"], s["registered"]) == ("在住", "H2", True)


def test_undated_hukou_change_counts_on_every_d(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1")
    w.hukou("P1", "迁出", None, record_no="H3")
    run(conn, as_of=D(2026, 8, 1))
    s = status_of(conn, "P1")
    assert s["status"] == "已离开" and s["registered"] is False
    assert s["basis"].startswith("户籍登记 户籍状态迁出（变动日期缺失） (记录编号 H3)")
    w.floating("P2", D(2026, 1, 1), "H1", permit=D(2026, 12, 31))   # presence dated D: not older
    w.hukou("P2", "注销", None)
    w.hukou("P3", "死亡", None)
    run(conn, as_of=D(2026, 8, 1))
    assert status_of(conn, "P2")["status"] == "在住"
    assert status_of(conn, "P3")["status"] == "死亡"


def test_evidence_after_d_is_ignored_and_a_past_d_rerenders_identically(w):
    conn, w = w
    w.resident("P1", D(2025, 6, 1), "H1")
    w.visit("P1", D(2026, 3, 1), "H1", "已搬离")
    w.resident("P2", D(2026, 5, 1), "H2")
    w.floating("P3", D(2026, 9, 1), "H3")

    def snapshot():
        return conn.execute("SELECT * FROM core.person_status ORDER BY person_key").fetchall()

    run(conn, as_of=D(2026, 2, 1))
    before = snapshot()
    assert status_of(conn, "P1")["status"] == "在住"
    assert status_of(conn, "P2") is None and status_of(conn, "P3") is None   # no record yet on D
    run(conn, as_of=D(2026, 4, 1))
    assert status_of(conn, "P1")["status"] == "已离开"
    run(conn, as_of=D(2026, 2, 1))
    assert snapshot() == before


def test_a_later_d_turns_present_into_unverified(w):
    conn, w = w
    w.resident("P1", D(2025, 6, 1), "H1")
    run(conn, as_of=D(2026, 1, 1))
    assert status_of(conn, "P1")["status"] == "在住"
    run(conn, as_of=D(2026, 9, 1))
    assert status_of(conn, "P1")["status"] == "待核实"


def test_same_day_presence_tie_is_deterministic(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1")
    w.visit("P1", D(2026, 6, 1), "H3", "在住")
    w.floating("P1", D(2026, 6, 1), "H2")
    run(conn)
    assert status_of(conn, "P1")["house_code"] == "H3"      # the visit


def test_same_day_same_source_tie_goes_to_the_newest_file_then_the_lowest_row(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1", batch="old", record_no="R1")
    w.resident("P1", D(2026, 6, 1), "H2", batch="new", record_no="R2")   # loaded after "old"
    w.resident("P2", D(2026, 6, 1), "H3", batch="new", record_no="R3")   # row 3 of "new"
    w.resident("P2", D(2026, 6, 1), "H4", batch="new", record_no="R4")   # row 4
    run(conn)
    assert status_of(conn, "P1")["house_code"] == "H2"
    assert status_of(conn, "P2")["house_code"] == "H3"


def test_a_date_typed_centuries_off_is_ranked_not_refused(w):
    # 采集日期 "0001-01-01" or "1700-01-01" is a valid date: P must still be found, not the run fail
    conn, w = w
    w.resident("P1", D(1, 1, 1), "H1")
    w.resident("P1", D(2026, 6, 1), "H2")
    w.resident("P2", D(1700, 1, 1), "H3")
    run(conn)
    assert status_of(conn, "P1")["house_code"] == "H2"
    s = status_of(conn, "P2")
    assert (s["status"], s["house_code"], s["presence_date"]) == ("待核实", "H3", D(1700, 1, 1))


def test_the_category_comes_from_the_newer_file_of_one_load(w):
    # the batches of one load are a microsecond apart (pipelines/ingest): same day, same row number,
    # and still the later file decides, on every run
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1", batch="first", category="户籍人口")
    w.resident("P2", D(2026, 6, 1), "H1", batch="second", category="户籍人口")
    w.resident("P1", D(2026, 6, 1), "H1", batch="second", category="流动人口")
    conn.execute("UPDATE raw.batches SET loaded_at = TIMESTAMP '2026-11-01 08:00:00' "
                 "+ INTERVAL (CASE WHEN batch_id LIKE '%second' THEN 1 ELSE 0 END) MICROSECOND")
    assert conn.execute("SELECT count(DISTINCT row_no) FROM staging.residents").fetchall() == [(2,)]
    run(conn)
    assert status_of(conn, "P1")["category"] == "流动人口"


def test_presence_needs_a_house(w):
    conn, w = w
    w.resident("P1", D(2025, 1, 1), "H1")
    w.floating("P1", D(2026, 6, 1), None)                  # address matched no house
    w.floating("P2", D(2026, 6, 1), None)
    run(conn)
    s = status_of(conn, "P1")
    assert (s["status"], s["house_code"], s["presence_date"]) == ("待核实", "H1", D(2025, 1, 1))
    s = status_of(conn, "P2")
    assert (s["status"], s["house_code"], s["category"], s["registered"]) == ("待核实", None, "流动人口", False)


@pytest.mark.parametrize("rows, expected", [
    (lambda w: (w.hukou("P1", "正常"), w.floating("P1", D(2026, 1, 1), "H1")), "户籍人口"),
    (lambda w: (w.hukou("P1", "迁出", D(2025, 1, 1)), w.floating("P1", D(2026, 1, 1), "H1")), "流动人口"),
    (lambda w: (w.hukou("P1", "正常", D(2027, 1, 1)), w.floating("P1", D(2026, 1, 1), "H1")), "流动人口"),
    (lambda w: (w.resident("P1", D(2026, 1, 1), "H1", category="流动人口"),
                w.resident("P1", D(2026, 5, 1), "H1", category="境外人员")), "境外人员"),
    (lambda w: (w.floating("P1", D(2024, 1, 1), "H1", dereg=D(2025, 1, 1), reason="离开本地"),
                w.resident("P1", D(2026, 5, 1), "H1", category="户籍人口")), "流动人口"),
    (lambda w: (w.hukou("P1", "迁出", D(2024, 1, 1)), w.hukou("P1", "正常", D(2025, 1, 1)),
                w.resident("P1", D(2026, 5, 1), "H1", category="流动人口")), "户籍人口"),
    (lambda w: (w.death("P1", D(2026, 1, 1)),), None),
])
def test_category_rules(w, rows, expected):
    conn, world = w
    rows(world)
    run(conn)
    assert status_of(conn, "P1")["category"] == expected


def test_only_assistance_is_unverified(w):
    conn, w = w
    w.assistance("P1", D(2026, 1, 1), record_no="A1")
    run(conn)
    s = status_of(conn, "P1")
    assert s["status"] == "待核实"
    assert s["basis"] == "无在住证据，最近记录：社会救助 2026-01-01 城市低保 (记录编号 A1)"


def test_unlinked_records_give_no_status(w):
    conn, w = w
    w.resident(None, D(2026, 6, 1), "H1")
    run(conn)
    assert conn.execute("SELECT count(*) FROM core.person_status").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM core.evidence").fetchone()[0] == 0


def test_evidence_rows(w):
    conn, w = w
    w.floating("P1", D(2025, 1, 1), "H1", permit=D(2026, 1, 1), dereg=D(2026, 3, 1), reason="死亡",
               record_no="F1")
    w.visit("P1", D(2026, 9, 12), "H1", "在住", record_no="V0001")
    build_evidence(conn)
    rows = conn.execute("SELECT kind, template, evidence_date, house_code, evidence_detail(e), deregistered_on, "
                        "permit_valid_until FROM core.evidence e ORDER BY evidence_date").fetchall()
    assert rows == [
        ("presence", "floating", D(2025, 1, 1), "H1", "流动人口登记 2025-01-01 居住证有效期至 2026-01-01 (记录编号 F1)",
         D(2026, 3, 1), D(2026, 1, 1)),
        ("death", "floating", D(2026, 3, 1), "H1", "流动人口注销 2026-03-01 注销原因死亡 (记录编号 F1)",
         D(2026, 3, 1), D(2026, 1, 1)),
        ("presence", "visits", D(2026, 9, 12), "H1", "走访记录 2026-09-12 在住 (记录编号 V0001)", None, None),
    ]


def test_rows_without_record_no_cite_file_and_row(w):
    conn, w = w
    w.resident("P1", D(2026, 6, 1), "H1", batch="金沙社区")
    run(conn)
    assert status_of(conn, "P1")["basis"] == "实有人口采集 2026-06-01 户籍人口 (residents/金沙社区.csv 第2行)"
