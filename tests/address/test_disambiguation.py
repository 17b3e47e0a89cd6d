"""Disambiguation as a person does it (issue 18): the same compound name in two communities, phases, a block
without a compound, a lane; decided by road and number, by a community the address names, by the row's own
社区名称 and by its 派出所's jurisdiction — and never guessed."""
from __future__ import annotations

import pytest

from pipelines.address import match_addresses
from tests.address.conftest import load_district

# microgrid -> community; two communities of 嘉陵街道, and 月安二社区 (a name with a numeral)
GRIDS = [("MG-A", "C-A", "嘉陵社区"), ("MG-B", "C-B", "锦屏社区"), ("MG-C", "C-C", "月安二社区")]
P = "重庆市南岸区嘉陵街道"
HOUSES = [
    # 金域蓝湾 stands in two communities, on two roads
    ("A1", "MG-A", P + "嘉陵社区嘉陵江东街180号金域蓝湾5栋1单元1202室", "金域蓝湾", "5", "1", "12", "1202"),
    ("A2", "MG-A", P + "嘉陵社区嘉陵江东街180号金域蓝湾5栋1单元1203室", "金域蓝湾", "5", "1", "12", "1203"),
    ("B1", "MG-B", P + "锦屏社区锦屏路8号金域蓝湾5栋1单元1202室", "金域蓝湾", "5", "1", "12", "1202"),
    ("B2", "MG-B", P + "锦屏社区锦屏路8号金域蓝湾6栋1单元601室", "金域蓝湾", "6", "1", "6", "601"),
    # phases of one estate
    ("P1", "MG-C", P + "月安二社区南坪西路38号上海城一期3栋2单元501室", "上海城一期", "3", "2", "5", "501"),
    ("P2", "MG-C", P + "月安二社区南坪西路40号上海城二期3栋2单元501室", "上海城二期", "3", "2", "5", "501"),
    # a block without a compound, and a lane
    ("R1", "MG-A", P + "嘉陵江东街200号1栋1单元101室", None, "1", "1", "1", "101"),
    ("L1", "MG-B", P + "魏星路169弄47号844室", None, "47", None, None, "844"),
    # names that begin with the street's short name 嘉陵: a compound, a road
    ("X1", "MG-A", P + "嘉陵正街9号嘉陵锦苑1栋1单元101室", "嘉陵锦苑", "1", "1", "1", "101"),
    ("Y1", "MG-B", P + "锦屏路20号锦苑1栋1单元101室", "锦苑", "1", "1", "1", "101"),
]


@pytest.fixture
def conn(store):
    with store.connect() as c:
        load_district(c, "南岸区", "嘉陵街道", GRIDS, HOUSES,
                      [("fb", "floating", "floating/a.csv"), ("ab", "assistance", "assistance/a.csv"),
                       ("hb", "hukou", "hukou/a.csv")])
        yield c


def _results(c):
    rows = c.execute("SELECT template, row_no, match_status, house_code, candidates, rule, address_basis(m) "
                     "FROM core.address_matches m ORDER BY template, row_no").fetchall()
    return {(t, r): (st, h, sorted(cands) if cands else None, rule, basis) for t, r, st, h, cands, rule, basis in rows}


def test_same_name_in_two_communities(conn):
    forms = {
        2: ("金域蓝湾5栋1单元1202室", "multi_match", ["A1", "B1"]),                 # nobody can tell
        3: ("嘉陵江东街180号金域蓝湾5栋1单元1202室", "matched", "A1"),               # the road and number
        4: ("锦屏路8号金域蓝湾5-1-1202", "matched", "B1"),
        5: ("锦屏社区金域蓝湾5栋1单元1202", "matched", "B1"),                        # a community named
        6: ("重庆市南岸区嘉陵街道嘉陵社区金域蓝湾5栋1单元1202室", "matched", "A1"),
        7: ("锦屏金域蓝湾5栋1单元1202", "matched", "B1"),                            # its short form
        8: ("金域蓝湾6栋1单元601室", "matched", "B2"),                               # only one has 6栋
        9: ("金域蓝湾5栋1单元1203室", "matched", "A2"),
        10: ("锦屏路8号金域蓝湾5栋1单元1203室", "no_match", None),                    # road says B: B has no 1203
    }
    conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('hb', ?, ?, ?)",
                     [(r, f"H{r}", a) for r, (a, _, _) in forms.items()])
    match_addresses(conn)
    got = _results(conn)
    for r, (address, status, want) in forms.items():
        st, house, cands, rule, basis = got[("hukou", r)]
        assert st == status, (address, got[("hukou", r)])
        assert (house if status == "matched" else cands) == (want if status != "no_match" else None), address
        assert basis, address
    assert "地址所写社区或街道排除了同名的其他房屋" in got[("hukou", 5)][4]
    assert "有 2 处房屋都符合" in got[("hukou", 2)][4]


def test_phases_blocks_and_lanes(conn):
    forms = {
        2: ("上海城一期3栋2单元501", "matched", "P1"),
        3: ("上海城(二期)3-2-501", "matched", "P2"),
        4: ("上海城2期3栋2单元501室", "matched", "P2"),
        5: ("上海城3栋2单元501", "multi_match", ["P1", "P2"]),         # the phase unsaid: either
        6: ("南坪西路40号上海城3栋2单元501", "matched", "P2"),          # …the number says which
        7: ("嘉陵江东街200号1-1-101", "matched", "R1"),                 # no compound: road and number
        8: ("嘉陵江东街200 1栋1单元101", "matched", "R1"),              # a number without 号
        9: ("魏星路169弄47号844室", "matched", "L1"),                   # a lane: 47号 is the building
        10: ("魏星路169弄47号楼844室", "matched", "L1"),
        11: ("上海城一期3栋2单元501电联", "matched", "P1"),             # trailing noise
        12: ("3栋2单元501室 上海城一期", "matched", "P1"),              # the building first
        13: ("月安二社区上海城二期3栋2单元501", "matched", "P2"),       # a numeral in the community's name
    }
    conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('hb', ?, ?, ?)",
                     [(r, f"H{r}", a) for r, (a, _, _) in forms.items()])
    match_addresses(conn)
    got = _results(conn)
    for r, (address, status, want) in forms.items():
        st, house, cands, *_ = got[("hukou", r)]
        assert (st, house if status == "matched" else cands) == (status, want), (address, got[("hukou", r)])


def test_the_rows_own_community_and_police_station(conn):
    # 社区名称 of an assistance row settles the two 金域蓝湾; a wrong or unknown one settles nothing
    conn.executemany("INSERT INTO staging.assistance (batch_id, row_no, record_no, address, community_name) VALUES ('ab', ?, ?, '金域蓝湾5栋1单元1202室', ?)",
                     [(2, "J2", "锦屏社区"), (3, "J3", "嘉陵"), (4, "J4", "不知道社区"), (5, "J5", None)])
    # a 派出所 whose other rows all lie in 嘉陵社区 settles its ambiguous row there; another station's does not
    conn.executemany("INSERT INTO staging.floating (batch_id, row_no, record_no, current_address, police_station) VALUES ('fb', ?, ?, ?, ?)",
                     [(r, f"F{r}", "嘉陵江东街180号金域蓝湾5栋1单元1203室", "嘉陵派出所") for r in range(2, 6)]
                     + [(6, "F6", "金域蓝湾5栋1单元1202室", "嘉陵派出所"),
                        (7, "F7", "金域蓝湾5栋1单元1202室", "锦屏派出所")])
    match_addresses(conn)
    got = _results(conn)
    assert got[("assistance", 2)][:2] == ("matched", "B1")
    assert got[("assistance", 2)][3].endswith("_record_community")
    assert "本记录社区名称“锦屏社区”中只有此一处" in got[("assistance", 2)][4]
    assert got[("assistance", 3)][:2] == ("matched", "A1")            # 嘉陵: the short form of 嘉陵社区
    assert got[("assistance", 4)][0] == "multi_match"
    assert got[("assistance", 5)][0] == "multi_match"
    assert got[("floating", 6)][:2] == ("matched", "A1")
    assert "派出所“嘉陵派出所”辖区中只有此一处" in got[("floating", 6)][4]
    assert got[("floating", 7)][0] == "multi_match"                    # 锦屏派出所 placed nothing yet


def test_elsewhere_is_elsewhere(conn):
    conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('hb', ?, ?, ?)", [
        (2, "H2", "重庆市渝中区解放碑街道金域蓝湾6栋1单元601室"),     # another district's 金域蓝湾
        (3, "H3", "重庆市南岸区弹子石街道金域蓝湾6栋1单元601室"),     # another street of this district
        (4, "H4", "重庆市南岸区嘉陵街道金域蓝湾6栋1单元601室"),        # here
    ])
    match_addresses(conn)
    got = _results(conn)
    assert got[("hukou", 2)][:2] == ("no_match", None) and "渝中区" in got[("hukou", 2)][4]
    assert got[("hukou", 3)][:2] == ("no_match", None) and "弹子石街道" in got[("hukou", 3)][4]
    assert got[("hukou", 4)][:2] == ("matched", "B2")
    kinds = dict(conn.execute("SELECT row_no, unknown_kind FROM core.address_matches").fetchall())
    assert kinds == {2: "outside", 3: "outside", 4: None}


def test_names_that_begin_with_the_streets_own_name(conn):
    forms = {
        2: ("嘉陵锦苑1栋1单元101", "X1"),                     # the compound named in full
        3: ("锦苑1栋1单元101", "Y1"),
        4: ("嘉陵街道嘉陵锦苑1-1-101", "X1"),
        5: ("嘉陵正街9号1栋1单元101室", "X1"),               # 嘉陵正街 is a road, not 嘉陵 + 正街
        6: ("嘉陵锦屏路20号1-1-101", "Y1"),                   # 嘉陵 is the street here: 锦屏路20号
    }
    conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('hb', ?, ?, ?)",
                     [(r, f"H{r}", a) for r, (a, _) in forms.items()])
    match_addresses(conn)
    got = _results(conn)
    for r, (address, want) in forms.items():
        assert got[("hukou", r)][:2] == ("matched", want), (address, got[("hukou", r)])
