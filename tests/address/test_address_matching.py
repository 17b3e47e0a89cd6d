"""core.address_matches against a hand-made street: every address form of the shared convention,
ambiguous and unknown addresses, and which source rows are matched at all."""
from __future__ import annotations

import pytest

from pipelines.address import match_addresses
from pipelines.store import Store

# address as a clerk typed it -> expected (match_status, house_code or sorted candidates)
FORMS = {
    "四川省成都市武侯区玉林街道玉林北路12号芳草小区3栋2单元5楼501室": ("matched", "H01"),
    "玉林北路12号芳草小区3栋2单元501室": ("matched", "H01"),
    "芳草小区3栋2单元501": ("matched", "H01"),
    "芳草小区3-2-501": ("matched", "H01"),
    "玉林北路12号3-2-501": ("matched", "H01"),
    "芳草小区3栋2-501": ("matched", "H01"),
    "芳草小区三栋二单元501室": ("matched", "H01"),
    "芳草小区三号楼2单元501": ("matched", "H01"),
    "芳草小区3幢2单元501": ("matched", "H01"),
    "芳草小区3号楼2单元501": ("matched", "H01"),
    "芳草小区第3栋2单元501": ("matched", "H01"),
    "芳草小区３栋２单元５０１": ("matched", "H01"),
    " 芳草 小区 3 栋　2单元 501 ": ("matched", "H01"),
    "芳草小区3栋2单元5楼501": ("matched", "H01"),
    "芳草小区3栋2单元5层501室": ("matched", "H01"),
    "芳草苑3栋2单元501": ("matched", "H01"),
    "芳草园3-2-502": ("matched", "H02"),
    "成都市武侯区芳草小区3栋2单元501": ("matched", "H01"),
    "武侯区玉林街道芳草小区4幢1单元501": ("matched", "H03"),
    "芳草小区四栋一单元五楼501": ("matched", "H03"),
    "桂花小区3栋1单元301": ("matched", "H06"),
    "玉林南路9号桂花园3-1-301室": ("matched", "H06"),
    "玉林北路12号附1号1栋1单元101": ("matched", "H07"),
    "幸福里小区十二栋一单元1201室": ("matched", "H08"),
    "北京市朝阳区工体北路8号12-1-1201": ("matched", "H08"),
    "四川省成都市武侯区玉林街道玉林北路40号": ("matched", "H09"),
    # 锦绣园 could be 锦绣苑 or 锦绣小区; the road settles it, without the road nobody can tell
    "玉林南路8号锦绣园1-1-101": ("matched", "H05"),
    "锦绣园1栋1单元101": ("multi_match", ["H04", "H05"]),
    # compound + room, no building: two buildings have a 501
    "芳草小区501": ("multi_match", ["H01", "H03"]),
    "芳草小区3栋2单元": ("multi_match", ["H01", "H02"]),
    "四川省成都市武侯区玉林街道玉林北路12号": ("multi_match", ["H01", "H02", "H03"]),
    # one house fits, but the address stops above the room: housing may lack the flat meant
    "玉林北路12号附1号1栋1单元": ("multi_match", ["H07"]),
    # no such house / no such place / a part that contradicts the house
    "芳草小区9栋1单元101": ("no_match", None),
    "芳草小区3栋2单元6楼501": ("no_match", None),
    "玉林北路12号1-1-101": ("no_match", None),
    "东芳草小区3栋2单元501": ("no_match", None),
    "金牛区营门口路99号锦城小区1栋1单元101": ("no_match", None),
}


def _load(conn, table, column, addresses, **extra):
    cols = ", ".join(["batch_id", "row_no", "record_no", column, *extra])
    marks = ", ".join("?" * (4 + len(extra)))
    conn.executemany(
        f"INSERT INTO staging.{table} ({cols}) VALUES ({marks})",
        [("b1", i + 2, f"R{i}", a, *extra.values()) for i, a in enumerate(addresses)],
    )


def _by_address(conn):
    rows = conn.execute(
        "SELECT address, match_status, house_code, candidates, rule, record_key, template FROM core.address_matches"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_every_address_form(address_conn):
    _load(address_conn, "assistance", "address", list(FORMS))
    counts = match_addresses(address_conn)
    got = _by_address(address_conn)
    assert set(got) == set(FORMS)
    for address, (status, expected) in FORMS.items():
        st, house, cands, rule, *_ = got[address]
        assert st == status, (address, got[address])
        if status == "matched":
            assert house == expected and cands is None, (address, got[address])
        elif status == "multi_match":
            assert house is None and sorted(cands) == expected, (address, got[address])
        else:
            assert house is None and cands is None, (address, got[address])
        assert rule
    expected_counts = {s: sum(1 for v in FORMS.values() if v[0] == s) for s in ("matched", "no_match", "multi_match")}
    assert counts == expected_counts


def test_rules_and_parsed_parts(address_conn):
    _load(address_conn, "hukou", "hukou_address", [
        "四川省成都市武侯区玉林街道玉林北路12号芳草小区三栋二单元5楼501室",
        "芳草小区501",
        "东芳草小区3栋2单元501",
        "芳草小区9栋1单元101",
        "玉林北路12号附1号1栋1单元101",
        "玉林北路12号附1号1栋1单元",
    ])
    match_addresses(address_conn)
    rows = address_conn.execute(
        "SELECT road, road_no, compound, building, unit, floor, room, rule, record_key, n_candidates"
        " FROM core.address_matches ORDER BY row_no"
    ).fetchall()
    assert rows[0] == ("玉林北路", "12", "芳草小区", "3", "2", "5", "501",
                       "compound_road_building_unit_floor_room", "hukou:1:2", 1)
    assert rows[1][2:8] == ("芳草小区", None, None, None, "501", "compound_room") and rows[1][9] == 2
    assert rows[2][7] == "unknown_place"
    assert rows[3][7] == "no_house"
    assert rows[4][:2] == ("玉林北路", "12附1")
    assert rows[5][7] == "address_without_room"


def test_which_rows_need_an_address(address_conn):
    conn = address_conn
    conn.executemany("INSERT INTO staging.floating (batch_id, row_no, record_no, current_address, house_code) VALUES (?, ?, ?, ?, ?)", [
        ("fb", 2, "F1", "芳草小区3-2-501", "H02"),    # names a known house: 已匹配 to it, its text not read
        ("fb", 3, "F2", "芳草小区3-2-501", None),     # no house code
        ("fb", 4, "F3", "芳草小区3-2-501", "  "),     # blank house code
        ("fb", 5, "F4", "芳草小区3-2-502", "X999"),   # unknown house code
    ])
    conn.executemany("INSERT INTO staging.assistance (batch_id, row_no, record_no, address, community_name) VALUES (?, ?, ?, ?, ?)", [
        ("ab", 2, "A1", None, "玉林社区"),
        ("ab", 3, "A2", " ", "玉林社区"),
        ("ab", 4, "A3", "芳草小区3-2-502", "玉林社区"),
    ])
    conn.execute("INSERT INTO staging.hukou (batch_id, row_no, hukou_address) VALUES ('hb', 7, '芳草小区501')")
    counts = match_addresses(conn)
    rows = conn.execute(
        "SELECT record_key, record_id, record_no, address, match_status, house_code FROM core.address_matches "
        "ORDER BY record_key"
    ).fetchall()
    # record_key template:batch_no:row_no, record_id batch_no << 32 | row_no (batches fb 3, ab 4, hb 5: see conftest)
    assert rows == [
        ("assistance:4:4", 4 << 32 | 4, "A3", "芳草小区3-2-502", "matched", "H02"),
        ("floating:3:2", 3 << 32 | 2, "F1", "芳草小区3-2-501", "matched", "H02"),
        ("floating:3:3", 3 << 32 | 3, "F2", "芳草小区3-2-501", "matched", "H01"),
        ("floating:3:4", 3 << 32 | 4, "F3", "芳草小区3-2-501", "matched", "H01"),
        ("floating:3:5", 3 << 32 | 5, "F4", "芳草小区3-2-502", "matched", "H02"),
        ("hukou:5:7", 5 << 32 | 7, None, "芳草小区501", "multi_match", None),
    ]
    assert counts == {"matched": 5, "no_match": 0, "multi_match": 1}
    # the stated house is what decided, and 依据 says so (contract §3)
    assert conn.execute("SELECT rule, address_basis(a) FROM core.address_matches a WHERE record_no = 'F1'").fetchall() == [
        ("stated_house", "本记录填写的房屋编码 H02 在实有房屋中")]
    # rebuilt, not appended to
    match_addresses(conn)
    assert conn.execute("SELECT count(*) FROM core.address_matches").fetchall()[0][0] == 6


def test_missing_staging_tables_are_skipped(address_conn):
    address_conn.execute("DROP TABLE staging.floating")
    address_conn.execute("DROP TABLE staging.assistance")
    address_conn.execute("INSERT INTO staging.hukou (batch_id, row_no, hukou_address) VALUES ('b', 2, '芳草小区9栋501')")
    assert match_addresses(address_conn) == {"matched": 0, "no_match": 1, "multi_match": 0}


def test_without_houses_the_clerk_is_told(tmp_path):
    with Store(tmp_path / "bare.duckdb").connect() as conn, pytest.raises(RuntimeError, match="实有房屋"):
        match_addresses(conn)


NUMERALS = {"十二": "12", "二十": "20", "二十三": "23", "九十九": "99", "十": "10", "一〇一": "101", "两": "2",
            "05": "5", "A": "A"}
PARTS = {"3栋": "3", "3": "3", "三号楼": "3", "3幢": "3", "第3栋": "3", "2单元": "2", "501室": "501",
         "５０１": "501", "": None, None: None}


def test_numerals_and_house_parts(store):
    with store.connect() as conn:
        got = {t: conn.execute("SELECT addr_cn_num(?)", [t]).fetchone()[0] for t in NUMERALS}
        assert got == NUMERALS
        got = {t: conn.execute("SELECT addr_part(?)", [t]).fetchone()[0] for t in PARTS}
        assert got == PARTS
