"""Identity on a build after a build decides only the dirty closure (pipelines/identity/link.py, incremental) and
leaves what a full run of the same store leaves: every record's link, the persons, the merge log, the key registry,
the stewards' candidates and the model's comparisons (compared table by table, pipelines/compare.py).

Each case links a street's records once (the last build), adds a batch, and links the same store twice: once
incrementally, once whole. The street has bystanders — persons the batch cannot reach — so the closure is a part
of the store, and the cases are the ones a closure can get wrong: a new record that merges two existing persons,
twins who must stay apart, a record without a valid ID joined through the model, a mistyped ID whose valid ID
arrives later, a record whose house changed.
"""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from pipelines.compare import store_differences
from pipelines.identity import link_persons
from pipelines.store import Store
from tests.identity.identity_records import load_records, make_id, record

RUN = dt.date(2024, 6, 30)
WANG = make_id("19900101", "011")        # 王小明
TWIN_B = make_id("20150311", "013")      # 张子轩
LI = make_id("19750505", "023")          # 李建国


def _bystanders() -> list[dict]:
    """Twenty persons at houses of their own, each with two records, four of them without a valid ID."""
    rows = []
    for n in range(20):
        birth = f"1960{(n % 12) + 1:02d}{(n % 27) + 1:02d}"
        ident = make_id(birth, f"{100 + n:03d}", region="510105")
        name = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许"[n] + "明华"[n % 2] + "东西南北中"[n % 5]
        rows.append(record(str(100 + 2 * n), name, id_number=ident, house=f"B{n}", sex="男女"[n % 2]))
        rows.append(record(str(101 + 2 * n), name, template="visits",
                           id_number=ident if n % 5 else None, house=f"B{n}"))
    return rows


def _links(store: Store) -> dict[str, tuple]:
    with store.connect(read_only=True) as conn:
        return {k: (p, r) for k, p, r in conn.execute(
            "SELECT record_key, person_key, rule FROM core.person_links").fetchall()}


def _both_ways(store: Store, before: list[dict], after: list[dict]) -> dict:
    """Link ``before`` (a full run), then ``after`` (the records after a batch) incrementally on the store and
    whole on a copy; asserts they agree and returns the incremental run's summary."""
    with store.connect() as conn:
        load_records(conn, before)
        link_persons(conn, run_date=RUN, incremental=True)
        load_records(conn, after)
    full = Store(store.path.with_name("full.duckdb"))
    shutil.copy(store.path, full.path)
    with store.connect() as conn:
        summary = link_persons(conn, run_date=RUN, incremental=True)
    with full.connect() as conn:
        assert link_persons(conn, run_date=RUN, incremental=False)["built"] == "full"
    assert summary["built"] == "delta"
    assert summary["closure_records"] < len(after)
    found = store_differences(store.path, full.path)
    assert not found, "; ".join(found)
    return summary


def test_a_new_record_merges_two_existing_persons(store, closure_at_any_size):
    # 王小明 at house H2 without an ID is not sure enough to join the 王小明 with an ID at H1 (0.985): a person
    # of its own. A new record at H2 with his sex is (0.992), and it is the H2 record's own: the two are one.
    before = _bystanders() + [
        record("1", "王小明", id_number=WANG, house="H1", sex="男"),
        record("2", "王小明", birth="1990-01-01", house="H2"),
    ]
    with store.connect() as conn:
        load_records(conn, before)
        link_persons(conn, run_date=RUN)
    was = _links(store)
    assert was["residents:b1:2"][0] not in (None, was["residents:b1:1"][0])
    _both_ways(store, before, before + [record("3", "王小明", birth="1990-01-01", house="H2", sex="男",
                                                template="census")])
    now = _links(store)
    assert now["residents:b1:2"][0] == now["census:b1:3"][0] == was["residents:b1:1"][0]


@pytest.mark.slow   # three link runs (full, incremental, rebuild); the fast loop keeps the merge case
def test_twins_stay_apart(store, closure_at_any_size):
    before = _bystanders() + [
        record("1", "张子轩", id_number=TWIN_B, house="H1", sex="男"),
        record("2", "张子轩", template="hukou", id_number=TWIN_B, house="H1"),
    ]
    _both_ways(store, before, before + [
        record("3", "张子涵", birth="2015-03-11", house="H1", sex="男"),
        record("4", "张子涵", template="visits", house="H1"),
    ])
    got = _links(store)
    assert got["residents:b1:3"] == (got["visits:b1:4"][0], "kept_apart")
    assert got["residents:b1:3"][0] != got["residents:b1:1"][0]


@pytest.mark.slow   # three link runs (full, incremental, rebuild); the fast loop keeps the merge case
def test_a_record_without_a_valid_id_joins_through_the_model(store, closure_at_any_size):
    before = _bystanders() + [record("1", "李建国", id_number=LI, house="H1", sex="男")]
    _both_ways(store, before, before + [record("2", "李建国", birth="1975-05-05", house="H1", sex="男",
                                               template="census")])
    got = _links(store)
    assert got["census:b1:2"] == (got["residents:b1:1"][0], "name_match")


@pytest.mark.slow   # three link runs (full, incremental, rebuild); the fast loop keeps the merge case
@pytest.mark.parametrize("arrives_first", ["valid", "mistyped"])
def test_a_mistyped_id(store, closure_at_any_size, arrives_first):
    # one digit off (…0505… → …0595…): joins 李建国 by the mistyped-ID rule, whichever record came first
    mistyped = LI[:10] + "9" + LI[11:]
    valid = record("1", "李建国", id_number=LI, house="H1", sex="男")
    typo = record("2", "李建国", id_number=mistyped, house="H9", template="floating")
    first, then = (valid, typo) if arrives_first == "valid" else (typo, valid)
    _both_ways(store, _bystanders() + [first], _bystanders() + [first, then])
    got = _links(store)
    assert got["floating:b1:2"] == (got["residents:b1:1"][0], "id_typo")


@pytest.mark.slow   # three link runs (full, incremental, rebuild); the fast loop keeps the merge case
def test_a_record_whose_house_changed(store, closure_at_any_size):
    # the visit's address now matches the house of the 王小明 without an ID: the two are one person
    before = _bystanders() + [
        record("1", "王小明", birth="1990-01-01", house="H2", sex="男"),
        record("2", "王小明", template="visits"),
    ]
    after = before[:-1] + [dict(before[-1], house_code="H2", house_source="stated")]
    _both_ways(store, before, after)
    got = _links(store)
    assert got["visits:b1:2"][0] == got["residents:b1:1"][0]
