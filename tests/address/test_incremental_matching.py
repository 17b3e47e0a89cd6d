"""Address matching in an incremental build equals a full rebuild (docs/architecture.md, "Incremental builds"):
after each change below, one copy of the store decides what the change can reach (``build_address_matches``
with ``incremental``), the other decides every row again, and ``pipelines/compare.py`` finds no difference.
The changes are the ones that can turn a decision made earlier: a new house that makes an old match ambiguous or
gives a no_match its house, a house removed, a grid renamed, a steward's decision, rows of a police station that
settle its old ambiguous rows, a batch withdrawn. A change of the houses or the grids' names is decided again only
for the texts it can reach (sql/core/address_reach.sql): the others are kept, and still equal a full rebuild."""
from __future__ import annotations

import logging
import re
import shutil

import pytest

from pipelines.address import build_address_matches
from pipelines.address.aliases import record_alias
from pipelines.compare import store_differences
from pipelines.store import Store
from tests.address.conftest import load_district
from tests.address.test_disambiguation import GRIDS, HOUSES, P
from tests.schema import copy_of

BATCHES = [("fb", "floating", "floating/a.csv"), ("ab", "assistance", "assistance/a.csv"),
           ("hb", "hukou", "hukou/a.csv"), ("fb2", "floating", "floating/b.csv"), ("hb2", "hukou", "hukou/b.csv")]


@pytest.fixture
def home(schema_template, tmp_path):
    """A district's store (the product's own tables: tests/schema.py) after a first build: one hukou batch (unique
    matches, a no_match) and a floating batch whose 派出所 has placed too few rows to settle its ambiguous one."""
    store = copy_of(schema_template, tmp_path / "inc")
    with store.connect() as c:
        load_district(c, "南岸区", "嘉陵街道", GRIDS, HOUSES, BATCHES)
        Store.run_sql(c, "quality/schema.sql")
        c.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('hb', ?, ?, ?)", [
            (2, "H2", "金域蓝湾6栋1单元601室"),                  # only B2 has 6栋
            (3, "H3", "锦屏路8号金域蓝湾6栋1单元602室"),          # no such flat yet
            (4, "H4", "嘉陵江东街180号金域蓝湾5栋1单元1203室"),
        ])
        c.executemany("INSERT INTO staging.floating (batch_id, row_no, record_no, current_address, police_station) VALUES ('fb', ?, ?, ?, '嘉陵派出所')", [
            (2, "F2", "嘉陵江东街180号金域蓝湾5栋1单元1203室"),
            (3, "F3", "嘉陵江东街180号金域蓝湾5栋1单元1202室"),
            (4, "F4", "金域蓝湾5栋1单元1202室"),                   # A1 or B1: the station cannot tell yet
        ])
        assert build_address_matches(c, incremental=True)[0] == "full"
    return tmp_path


def _texts_read(caplog) -> int:
    """How many distinct address texts the incremental build of :func:`_both` read (its log line; the full
    rebuild's follows)."""
    found = [int(m.group(1)) for r in caplog.records
             if (m := re.search(r"(\d+) distinct address texts read", r.getMessage()))]
    return found[0]


def _both(home, change) -> tuple[str, dict]:
    """Apply ``change`` to the store, then build it incrementally and, in a copy, whole; returns how the
    incremental build went and its rows; asserts the two stores are the same."""
    inc, full = home / "inc", home / "full"
    with Store(inc / "store.duckdb").connect() as c:
        change(c)
    shutil.rmtree(full, ignore_errors=True)
    shutil.copytree(inc, full)
    with Store(inc / "store.duckdb").connect() as c:
        how = build_address_matches(c, incremental=True)[0]
        rows = {(t, r): (s, h) for t, r, s, h in c.execute(
            "SELECT template, row_no, match_status, house_code FROM core.address_matches").fetchall()}
    with Store(full / "store.duckdb").connect() as c:
        assert build_address_matches(c, incremental=False)[0] == "full"
    found = store_differences(inc / "store.duckdb", full / "store.duckdb")
    assert not found, "; ".join(found)
    return how, rows


def _add_house(code, microgrid, address, compound, building, unit, floor, room):
    def change(c):
        c.execute("INSERT INTO core.houses (house_code, microgrid_code, std_address, compound, building, unit, floor, "
                  "room, collected_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, DATE '2024-02-01')",
                  [code, microgrid, address, compound, building, unit, floor, room])
    return change


@pytest.mark.slow   # three matching runs (full, incremental, rebuild); the fast loop keeps the new-house case
def test_a_new_house_turns_an_old_unique_match_into_multi_match(home):
    how, rows = _both(home, _add_house("A3", "MG-A", P + "嘉陵社区嘉陵江东街180号金域蓝湾6栋1单元601室",
                                       "金域蓝湾", "6", "1", "6", "601"))
    assert rows[("hukou", 2)] == ("multi_match", None)          # was matched to B2
    assert how == "delta"


def test_a_new_house_gives_an_old_address_its_house(home):
    how, rows = _both(home, _add_house("B3", "MG-B", P + "锦屏社区锦屏路8号金域蓝湾6栋1单元602室",
                                       "金域蓝湾", "6", "1", "6", "602"))
    assert rows[("hukou", 3)] == ("matched", "B3")               # was no_match
    assert how == "delta"


def test_a_removed_house(home):
    how, rows = _both(home, lambda c: c.execute("DELETE FROM core.houses WHERE house_code = 'B2'"))
    assert rows[("hukou", 2)] == ("no_match", None)              # was matched to B2
    assert how == "delta"


def test_a_new_house_in_a_new_street_leaves_the_other_texts_alone(home, caplog):
    def new_street(c):
        c.execute("INSERT INTO core.grids (microgrid_code, community_code, community_name, street_code, street_name, "
                  "district_code, district_name) VALUES ('MG-N', 'C-N', '丹桂社区', 'S2', '丹桂街道', 'D1', '南岸区')")
        _add_house("N1", "MG-N", "重庆市南岸区丹桂街道丹桂社区桂园路6号丹桂苑2栋1单元301室",
                   "丹桂苑", "2", "1", "3", "301")(c)
        c.execute("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) "
                  "VALUES ('hb2', 5, 'K5', '丹桂街道桂园路6号丹桂苑2栋1单元301室')")
    caplog.set_level(logging.INFO, logger="pipelines.address")
    how, rows = _both(home, new_street)
    assert how == "delta"
    assert rows[("hukou", 5)] == ("matched", "N1")
    # the new row's text and the one ambiguous row a police station may settle (F4), of the 6 a full build reads
    assert _texts_read(caplog) == 2


def test_a_renamed_grid(home):
    def more(c):
        # a text that names its community, whose name alone settles 金域蓝湾 5栋1单元1202室 (A1 or B1)
        c.execute("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) "
                  "VALUES ('hb2', 6, 'K6', '锦屏社区金域蓝湾5栋1单元1202室')")
        # an ambiguous address settled by the row's own 社区名称
        c.execute("INSERT INTO staging.assistance (batch_id, row_no, record_no, address, community_name) "
                  "VALUES ('ab', 2, 'S2', '金域蓝湾5栋1单元1202室', '锦屏社区')")
    how, rows = _both(home, more)
    assert rows[("hukou", 6)] == rows[("assistance", 2)] == ("matched", "B1")
    how, rows = _both(home, lambda c: c.execute("UPDATE core.grids SET community_name = '锦华社区' "
                                                 "WHERE community_code = 'C-B'"))
    assert how == "delta"
    # 锦屏社区 names no community any more
    assert rows[("hukou", 6)] != ("matched", "B1") and rows[("assistance", 2)] != ("matched", "B1")


@pytest.mark.slow   # three matching runs (full, incremental, rebuild); the fast loop keeps the new-house case
def test_a_stewards_decision(home):
    how, rows = _both(home, lambda c: record_alias(c, "house", "金域蓝湾5栋1单元1202室", "A1", by="张三"))
    assert rows[("floating", 4)] == ("matched", "A1")
    assert how == "full"


@pytest.mark.slow   # three matching runs (full, incremental, rebuild); the fast loop keeps the new-house case
def test_new_rows_of_a_police_station_settle_its_old_ambiguous_row(home):
    def more(c):
        c.executemany("INSERT INTO staging.floating (batch_id, row_no, record_no, current_address, police_station) VALUES ('fb2', ?, ?, '嘉陵江东街180号金域蓝湾5栋1单元1203室', "
                      "'嘉陵派出所')", [(2, "G2"), (3, "G3")])
        c.execute("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('hb2', 5, 'K5', '金域蓝湾6栋1单元601室')")
    how, rows = _both(home, more)
    assert how == "delta"
    assert rows[("floating", 4)] == ("matched", "A1")           # the station now has 4 rows in 嘉陵社区
    assert rows[("hukou", 5)] == rows[("hukou", 2)] == ("matched", "B2")


@pytest.mark.slow   # three matching runs (full, incremental, rebuild); the fast loop keeps the new-house case
def test_a_batch_withdrawn(home):
    def withdraw(c):
        c.execute("DELETE FROM staging.floating WHERE batch_id = 'fb'")
        c.execute("DELETE FROM raw.batches WHERE batch_id = 'fb'")
    how, rows = _both(home, withdraw)
    assert how == "delta" and not [k for k in rows if k[0] == "floating"]


def test_the_records_whose_house_changed_are_handed_on(home):
    with Store(home / "inc" / "store.duckdb").connect() as c:
        c.execute("DROP TABLE scratch.address_delta")      # what core.person_records would have taken
        c.execute("INSERT INTO staging.floating (batch_id, row_no, record_no, current_address, police_station) VALUES ('fb2', 2, 'G2', '嘉陵江东街180号金域蓝湾5栋1单元1203室', "
                  "'嘉陵派出所'), ('fb2', 3, 'G3', '嘉陵江东街180号金域蓝湾5栋1单元1203室', '嘉陵派出所')")
        assert build_address_matches(c, incremental=True)[0] == "delta"
        handed = {r for (r,) in c.execute(
            "SELECT record_key FROM scratch.address_delta JOIN core.address_matches USING (record_id)").fetchall()}
    # the two new rows, and the old one their station now settles; not the rows kept as they were
    assert handed == {"floating:4:2", "floating:4:3", "floating:1:4"}


def _houses_read(caplog) -> list[int]:
    """How many houses each build since the last ``caplog.clear()`` read (their log lines, in order)."""
    return [int(m.group(1)) for r in caplog.records if (m := re.search(r"(\d+) houses read", r.getMessage()))]


def test_a_housing_batch_delivered_again_moves_the_old_matches_of_a_changed_house(home, caplog):
    """A house is read again only when its row of core.houses comes from another housing row (a batch delivering it
    again, a batch withdrawn), its micro-grid's units or a name of the grids its text holds changed; the others keep
    the last build's reading (sql/core/address_house_keep.sql). A house delivered again with another 标准地址 and
    楼栋 must be read again, and the old address rows it matched must move."""
    caplog.set_level(logging.INFO, logger="pipelines.address")
    with Store(home / "inc" / "store.duckdb").connect() as c:
        # every house as a row of the first housing batch
        c.execute("UPDATE core.houses SET batch_id = 'hs1', row_no = n.row_no FROM (SELECT house_code, "
                  "row_number() OVER (ORDER BY house_code) AS row_no FROM core.houses) n "
                  "WHERE n.house_code = core.houses.house_code")
        houses = c.execute("SELECT count(*) FROM core.houses").fetchall()[0][0]
        caplog.clear()
        assert build_address_matches(c, incremental=True)[0] == "delta"
        assert build_address_matches(c, incremental=True)[0] == "delta"
        # first every house (the rows they were read from are others now), then none: nothing changed
        assert _houses_read(caplog) == [houses, 0]
        assert c.execute("SELECT house_code FROM core.address_matches WHERE template = 'hukou' AND row_no = 2"
                         ).fetchall() == [("B2",)]

    def delivered_again(c):
        # the second housing batch: B2 is 7栋 now (金域蓝湾 6栋 has no flat any more)
        c.execute("UPDATE core.houses SET batch_id = 'hs2', row_no = 1, building = '7', "
                  "std_address = replace(std_address, '6栋', '7栋') WHERE house_code = 'B2'")
    caplog.clear()
    how, rows = _both(home, delivered_again)
    assert how == "delta"
    assert _houses_read(caplog)[0] == 1                     # the incremental build: B2 only
    assert rows[("hukou", 2)] != ("matched", "B2")          # 金域蓝湾6栋1单元601室 was B2's
