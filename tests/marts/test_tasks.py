"""The follow-up tasks (sql/marts/tasks.sql): the contract's verification-tasks and deregistration-feedback, and
each task's life in the append-only ledger core.task_log — opened by the first build that finds it, closed by the
build whose evidence resolves it, kept through any number of rebuilds, reproducible for a past date."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from pipelines.marts import build_marts
from pipelines.marts.tasks import overdue_days, task_history
from pipelines.status import build_evidence, build_status

D = dt.date
D1, D2 = D(2026, 10, 31), D(2026, 11, 30)

VERIFY_COLUMNS = ["网格编码", "网格名称", "房屋编码", "地址", "人员主键", "姓名", "公民身份号码", "最近在住证据日期",
                  "任务", "依据"]
FEEDBACK_COLUMNS = ["人员主键", "姓名", "公民身份号码", "警方记录编号", "建议", "依据"]


def build(conn, as_of, record=True):
    build_evidence(conn)
    build_status(conn, as_of=as_of)
    build_marts(conn, as_of=as_of, record_tasks=record)


def rows(conn, sql, params=None):
    cur = conn.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def tasks(conn, kind=None):
    return {r["person_key"]: r for r in rows(
        conn, "SELECT * FROM marts.tasks WHERE ? IS NULL OR kind = ? ORDER BY task_id", [kind, kind])}


def ledger(conn):
    return conn.execute("SELECT * EXCLUDE (built_at) FROM core.task_log ORDER BY as_of, built_at, task_id").fetchall()


@pytest.fixture
def street(world):
    conn, w = world
    w.grid("MG1", "G1", community="C1")
    w.grid("MG2", "G2", community="C1")
    for h, mg in (("H1", "MG1"), ("H2", "MG1"), ("H3", "MG2"), ("H4", "MG2"), ("H5", "MG2")):
        w.house(h, mg)
    return conn, w


def test_verification_tasks_are_the_contracts_rows_one_open_task_each(street):
    conn, w = street
    w.resident("A", D(2026, 6, 1), "H1")                         # 在住: nothing to do
    w.resident("G", D(2025, 3, 1), "H3", id_number="510104198001010066", name="高三")   # 待核实 at H3
    w.resident("K", D(2024, 5, 1), "H4")
    w.visit("K", D(2025, 1, 10), "H4", "在住")                    # 待核实, last seen by a visit
    w.hukou("L", "正常")                                          # 待核实 without a house: no task
    build(conn, D1)
    got = rows(conn, "SELECT * FROM marts.verification_tasks ORDER BY 人员主键")
    assert list(got[0]) == VERIFY_COLUMNS
    assert [(r["人员主键"], r["网格编码"], r["房屋编码"], r["最近在住证据日期"]) for r in got] == [
        ("G", "G2", "H3", D(2025, 3, 1)), ("K", "G2", "H4", D(2025, 1, 10))]
    g = got[0]
    assert (g["姓名"], g["公民身份号码"], g["地址"]) == ("高三", "510104198001010066", "H3号")
    assert g["依据"].startswith("最近一次在住证据为 2025-03-01 的实有人口采集")
    open_ = tasks(conn, "verify")
    assert set(open_) == {"G", "K"} and all(t["state"] == "open" and t["opened_on"] == D1 for t in open_.values())
    assert g["任务"] == f"上门核实是否仍在此居住（任务 {open_['G']['task_id']}，2026-10-31 起）"
    # one open task per person, exactly those 待核实 with a house
    assert conn.execute("SELECT count(*), count(DISTINCT person_key) FROM marts.tasks "
                        "WHERE kind = 'verify' AND state = 'open'").fetchall()[0] == (2, 2)


def test_task_ids_derive_from_person_house_and_evidence_date_not_load_order(schema_template, tmp_path):
    from tests.schema import copy_of
    from tests.status.status_world import World

    ids = []
    for order in ((0, 1), (1, 0)):
        store = copy_of(schema_template, tmp_path / f"s{order[0]}")
        with store.connect() as conn:
            w = World(conn)
            w.grid("MG1", "G1")
            w.house("H1", "MG1")
            w.house("H2", "MG1")
            adds = [lambda: w.resident("G", D(2025, 3, 1), "H1", batch="spring"),
                    lambda: w.resident("K", D(2024, 3, 1), "H2", batch="old")]
            for i in order:          # the batches are numbered in the other order: record keys differ
                adds[i]()
            build(conn, D1)
            ids.append({k: t["task_id"] for k, t in tasks(conn, "verify").items()})
    assert ids[0] == ids[1]
    expected = "HS-" + hashlib.md5(b"verify|G|H1|2025-03-01").hexdigest()[:16].upper().translate(
        str.maketrans("0123456789", "GHJKMNPQRT"))
    assert ids[0]["G"] == expected


def test_deregistration_feedback_lists_exactly_the_registered_who_left(street):
    conn, w = street
    # M: found gone by a grid worker; hukou and a floating registration still in force
    w.resident("M", D(2025, 6, 1), "H1")
    w.visit("M", D(2026, 5, 1), "H1", "已搬离", record_no="ZF-9")
    w.hukou("M", "正常", record_no="HJ-1")
    w.floating("M", D(2025, 1, 1), "H1", record_no="LD-1")
    # N: gone, and the police already deregistered him (not 登记人口)
    w.resident("N", D(2025, 6, 1), "H2")
    w.visit("N", D(2026, 5, 1), "H2", "查无此人")
    w.hukou("N", "迁出", D(2026, 6, 1))
    # O: gone, known to the community census alone
    w.resident("O", D(2025, 6, 1), "H3", category="境外人员")
    w.visit("O", D(2026, 4, 1), "H3", "人户分离", record_no="ZF-7")
    # P: stale but not found gone: a verify task, not police work
    w.resident("P", D(2024, 6, 1), "H4")
    # Q: floating registration only, found gone
    w.floating("Q", D(2025, 8, 1), "H5", record_no="LD-2")
    w.visit("Q", D(2026, 9, 1), "H5", "已搬离")
    build(conn, D1)
    got = rows(conn, "SELECT * FROM marts.deregistration_feedback ORDER BY 人员主键")
    assert list(got[0]) == FEEDBACK_COLUMNS
    by = {r["人员主键"]: r for r in got}
    assert set(by) == {"M", "O", "Q"}
    assert (by["M"]["警方记录编号"], by["M"]["建议"]) == ("HJ-1;LD-1", "核查注销户籍;核查注销流动人口登记")
    assert (by["Q"]["警方记录编号"], by["Q"]["建议"]) == ("LD-2", "核查注销流动人口登记")
    assert (by["O"]["警方记录编号"], by["O"]["建议"]) == (None, "核查注销流动人口登记")
    assert by["M"]["依据"].startswith("走访记录 2026-05-01 已搬离 (记录编号 ZF-9)")
    status = {r["person_key"]: r for r in rows(conn, "SELECT * FROM core.person_status")}
    assert set(by) == {k for k, s in status.items() if s["registered"] and s["status"] == "已离开"}
    assert set(tasks(conn, "deregister")) == {"M", "O", "Q"}


def test_evidence_closes_each_task_and_names_the_record(street):
    conn, w = street
    w.resident("G", D(2025, 3, 1), "H1")          # found living there
    w.resident("K", D(2025, 2, 1), "H2")          # found gone
    w.resident("X", D(2025, 1, 1), "H3")          # dies
    w.resident("Y", D(2025, 1, 1), "H4")          # visited at another house: says nothing
    w.resident("Z", D(2025, 1, 1), "H5")          # nobody comes
    build(conn, D1)
    opened = {k: t["task_id"] for k, t in tasks(conn, "verify").items()}
    assert set(opened) == {"G", "K", "X", "Y", "Z"}

    seen = w.visit("G", D(2026, 11, 12), "H1", "在住", batch="nov", record_no="ZF-11")
    gone = w.visit("K", D(2026, 11, 20), "H2", "查无此人", batch="nov", record_no="ZF-12")
    died = w.death("X", D(2026, 11, 3), record_no="SW-1")
    w.visit("Y", D(2026, 11, 15), "H1", "已搬离", batch="nov")
    build(conn, D2)
    t = tasks(conn, "verify")
    closed = {k: v for k, v in t.items() if v["state"] == "closed"}
    assert {k: (v["resolution"], v["closing_key"]) for k, v in closed.items()} == {
        "G": ("核实在住", seen), "K": ("已离开", gone), "X": ("死亡", died)}
    assert all(v["closed_on"] == D2 and v["task_id"] == opened[k] for k, v in closed.items())
    assert closed["G"]["days"] == 12 and closed["G"]["closing_record_no"] == "ZF-11"
    assert closed["G"]["closing_detail"] == "走访记录 2026-11-12 在住 (记录编号 ZF-11)"
    assert closed["X"]["closing_detail"].startswith("死亡登记 2026-11-03")
    assert {k for k, v in t.items() if v["state"] == "open"} == {"Y", "Z"}
    assert t["Y"]["task_id"] == opened["Y"] and t["Y"]["opened_on"] == D1
    # K, found gone while still registered, is now the police's: a deregister task opened on D2
    assert tasks(conn, "deregister")["K"]["opened_on"] == D2
    # the ledger holds the life: opened on D1, closed on D2 by the visit
    history = task_history(conn, opened["G"])
    assert "2026-10-31 开始" in history and "2026-11-30 办结（核实在住）：走访记录 2026-11-12 在住 (记录编号 ZF-11)，用时 12 天" \
        in history


def test_police_deregistration_and_an_ended_payment_close_their_tasks(street):
    conn, w = street
    w.resident("M", D(2025, 6, 1), "H1")
    w.visit("M", D(2026, 5, 1), "H1", "已搬离")
    w.hukou("M", "正常", record_no="HJ-1")
    w.resident("R", D(2024, 6, 1), "H2")
    w.assistance("R", D(2023, 1, 1), record_no="JZ-1")             # paid, unverified
    build(conn, D1)
    assert set(tasks(conn, "deregister")) == {"M"} and set(tasks(conn, "assistance")) == {"R"}
    out = w.hukou("M", "迁出", D(2026, 11, 20), batch="police-nov", record_no="HJ-1")
    end = w.assistance("R", D(2023, 1, 1), end=D(2026, 11, 15), batch="aid-nov", record_no="JZ-1")
    build(conn, D2)
    m, r = tasks(conn, "deregister")["M"], tasks(conn, "assistance")["R"]
    assert (m["state"], m["resolution"], m["closing_key"]) == ("closed", "已注销", out)
    assert (r["state"], r["resolution"], r["closing_key"], r["closing_date"]) == ("closed", "救助已终止", end, D(2026, 11, 15))
    # the 民政 task extract prints the settled record's 救助类别, which the check no longer carries
    assert r["assistance_type"] == "城市低保"
    assert conn.execute("SELECT count(*) FROM marts.deregistration_feedback").fetchall()[0][0] == 0


def test_open_tasks_are_overdue_after_the_configured_days(street):
    conn, w = street
    w.resident("G", D(2025, 3, 1), "H1")
    build(conn, D1)
    days = overdue_days()["verify"]
    build(conn, D1 + dt.timedelta(days=days))
    assert not tasks(conn, "verify")["G"]["overdue"]
    later = D1 + dt.timedelta(days=days + 3)
    build(conn, later)
    t = tasks(conn, "verify")["G"]
    assert t["overdue"] and t["days"] == days + 3 and t["opened_on"] == D1
    task_text = conn.execute("SELECT 任务 FROM marts.verification_tasks").fetchall()[0][0]
    assert task_text.endswith("2026-10-31 起，已逾期 3 天）")


def test_history_survives_rebuilds_and_a_past_date_reproduces(street):
    conn, w = street
    w.resident("G", D(2025, 3, 1), "H1")
    w.resident("K", D(2025, 2, 1), "H2")
    build(conn, D1)
    first = rows(conn, "SELECT * FROM marts.tasks ORDER BY task_id")
    first_list = conn.execute("SELECT * FROM marts.verification_tasks ORDER BY 人员主键").fetchall()
    w.visit("G", D(2026, 11, 12), "H1", "在住", batch="nov")
    build(conn, D2)
    second = rows(conn, "SELECT * FROM marts.tasks ORDER BY task_id")
    kept = ledger(conn)
    assert [e[2] for e in kept] == ["opened", "opened", "closed"]

    # any number of rebuilds of the newest date: nothing is appended, nothing changes
    for _ in range(3):
        build(conn, D2)
    conn.execute("DROP TABLE marts.tasks; DROP TABLE core.person_status; DROP TABLE marts.verification_tasks")
    build(conn, D2)
    assert ledger(conn) == kept
    assert rows(conn, "SELECT * FROM marts.tasks ORDER BY task_id") == second

    # the past month re-rendered: the ledger is not rewritten, D1's outputs come back as they were
    build(conn, D1)
    assert ledger(conn) == kept
    assert rows(conn, "SELECT * FROM marts.tasks ORDER BY task_id") == first
    assert conn.execute("SELECT * FROM marts.verification_tasks ORDER BY 人员主键").fetchall() == first_list
    build(conn, D2)
    assert rows(conn, "SELECT * FROM marts.tasks ORDER BY task_id") == second
    # the grid history has one snapshot per build; the newest of each as-of is read
    n = conn.execute("SELECT count(DISTINCT built_at), count(DISTINCT as_of) FROM core.grid_history").fetchall()[0]
    assert n[1] == 2 and n[0] >= 7


def test_a_past_date_built_later_shows_what_it_would_have_written(street):
    conn, w = street
    w.resident("G", D(2025, 3, 1), "H1")
    w.visit("G", D(2026, 11, 12), "H1", "在住")
    w.resident("K", D(2025, 2, 1), "H2")
    build(conn, D2)                            # the first build is the later month
    kept = ledger(conn)
    assert {e[4] for e in kept} == {"K"}       # G was verified on 11-12: no task on D2
    build(conn, D1)                            # then October is built: read-only on the ledger
    assert ledger(conn) == kept
    t = tasks(conn, "verify")
    assert {k: (v["state"], v["opened_on"]) for k, v in t.items()} == {"G": ("open", D1), "K": ("open", D1)}


def test_an_extract_for_another_date_records_nothing(street):
    conn, w = street
    w.resident("G", D(2025, 3, 1), "H1")
    build(conn, D1)
    kept = ledger(conn)
    build(conn, D2, record=False)              # as `onceonly extract --as-of` rebuilds the marts
    assert ledger(conn) == kept
    assert tasks(conn, "verify")["G"]["opened_on"] == D1
