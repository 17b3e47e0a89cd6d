"""Hand-made inputs of the address matcher: rows of core.grids, core.houses and the three staging tables it reads,
inserted by column name into the product's own empty tables (tests/schema.py), only the columns the matcher uses
filled."""
from __future__ import annotations

import pytest

from pipelines.address import match_addresses

CD = "四川省成都市武侯区玉林街道"
# house_code, std_address, compound, building, unit, floor, room — parts written the ways housing writes them
HOUSES = [
    ("H01", CD + "玉林北路12号芳草小区3栋2单元5楼501室", "芳草小区", "3栋", "2单元", "5", "501室"),
    ("H02", CD + "玉林北路12号芳草小区3栋2单元5楼502室", "芳草小区", "3", "2", "5", "502"),
    ("H03", CD + "玉林北路12号芳草小区4幢1单元5楼501室", "芳草小区", "4幢", "1单元", "5", "501"),
    ("H04", CD + "玉林北路30号锦绣苑1栋1单元1楼101室", "锦绣苑", "1", "1", "1", "101"),
    ("H05", CD + "玉林南路8号锦绣小区1栋1单元1楼101室", "锦绣小区", "1栋", "1单元", "1", "101"),
    ("H06", CD + "玉林南路9号桂花园三号楼1单元3楼301室", "桂花园", "三号楼", "一单元", None, "301"),
    ("H07", CD + "玉林北路12号附1号1栋1单元101", None, None, None, None, None),
    ("H08", "北京市朝阳区三里屯街道工体北路8号幸福里小区12栋1单元12楼1201室", "幸福里小区", "12栋", "1单元", "12", "1201室"),
    ("H09", CD + "玉林北路40号", None, None, None, None, None),
]


@pytest.fixture
def store(schema_store):
    """The matcher reads core.grids, core.houses, staging and raw.batches: the product's own tables, empty."""
    return schema_store


@pytest.fixture
def address_conn(store):
    """A store connection with houses loaded and empty staging tables."""
    with store.connect() as conn:
        conn.executemany(
            "INSERT INTO core.houses (house_code, microgrid_code, std_address, compound, building, unit, floor, room,"
            " collected_on, batch_id, row_no) VALUES (?, 'MG1', ?, ?, ?, ?, ?, ?, DATE '2024-01-01', 'hb', ?)",
            [(*h, i + 2) for i, h in enumerate(HOUSES)],
        )
        # The batches the tests' staging rows come from (core.address_matches numbers rows by batch_no).
        conn.executemany("INSERT INTO raw.batches (batch_id, template, file_name, status, batch_no) "
                         "VALUES (?, ?, ?, 'loaded', ?)",
                         [(b, t, f"{t}/{b}.csv", n) for n, (b, t) in enumerate(
                             [("b1", "assistance"), ("b", "hukou"), ("fb", "floating"), ("ab", "assistance"),
                              ("hb", "hukou")], start=1)])
        yield conn


def match_and_score(conn, rows: list[tuple], label: str) -> dict:
    """Match staged rows (row_no, record_no, text, true house, names exactly one house) and score them the way
    issue 18 counts: of the addresses that name one house, how many are matched to it and how many to another;
    of the rest, how many were matched at all (guessed). Prints the numbers (``pytest -s``)."""
    match_addresses(conn)
    got = {r[0]: r[1:] for r in conn.execute(
        "SELECT row_no, match_status, house_code, address_basis(m) FROM core.address_matches m").fetchall()}
    one = [r for r in rows if r[4]]
    out = {"rows": len(rows), "one": len(one),
           "right": [r for r in one if got[r[0]][:2] == ("matched", r[3])],
           "wrong": [(r[2], r[3], got[r[0]]) for r in one if got[r[0]][0] == "matched" and got[r[0]][1] != r[3]],
           "guessed": [(r[2], got[r[0]]) for r in rows if not r[4] and got[r[0]][0] == "matched"],
           "missed": [(r[2], got[r[0]]) for r in one if got[r[0]][0] != "matched"]}
    out["rate"] = len(out["right"]) / len(one)
    print(f"\n{label}：{len(rows)} 条地址，其中唯一指向一处房屋 {len(one)} 条，匹配正确 {len(out['right'])}"
          f"（{out['rate']:.2%}），错配 {len(out['wrong'])}，多义地址 {len(rows) - len(one)} 条中被匹配 {len(out['guessed'])}")
    return out


def load_district(c, district: str, street: str, grids: list[tuple[str, str, str]], houses: list[tuple],
                  batches: list[tuple[str, str, str]]) -> None:
    """A hand-made district: core.grids from ``grids`` (microgrid_code, community_code, community_name),
    core.houses from ``houses`` (house_code, microgrid_code, std_address, compound, building, unit, floor, room),
    and the loaded batches (batch_id, template, file_name) its rows come from."""
    c.executemany("INSERT INTO core.grids (microgrid_code, community_code, community_name, street_code, "
                  "street_name, district_code, district_name) VALUES (?, ?, ?, 'S1', ?, 'D1', ?)",
                  [(*g, street, district) for g in grids])
    c.executemany("INSERT INTO core.houses (house_code, microgrid_code, std_address, compound, building, unit, "
                  "floor, room, collected_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, DATE '2024-01-01')", houses)
    c.executemany("INSERT INTO raw.batches (batch_id, template, file_name, status, batch_no) "
                  "VALUES (?, ?, ?, 'loaded', ?)", [(*b, n) for n, b in enumerate(batches, start=1)])
