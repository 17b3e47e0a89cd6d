"""A second district unlike the demo (issue 18, "Done when"), written after the matcher and never tuned against:
Guangzhou's 天河区 as its standard addresses and its police entries have it — no 单元, flats as 1203房, towers
with 座, door numbers with 之 (89号之一), old streets whose names hold numerals (六运一街 in 六运社区: the community's
short form must not eat the road), a 城中村 (石牌村) of 巷 and 大街 whose houses are only a door and a flat,
a compound name repeated in two communities on two roads (汇景新城), phases (骏景花园一期/二期), and entries
with full-width digits, reversed orders, missing 号 and courier noise.

Of the addresses that name exactly one house, ≥ 99 % are matched to it; none is matched to a wrong house;
none written to fit several houses is matched. ``pytest -s`` prints the measured numbers.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.address.conftest import load_district, match_and_score

D, S = "广东省广州市天河区", "石牌街道"
COMMUNITIES = [("G1", "华师社区"), ("G2", "六运社区"), ("G3", "石牌村"), ("G4", "龙口西社区")]
# compound, community, road, door number as the standard address writes it (and as parse gives it),
# building word (栋/座), buildings, floors, flats per floor
COMPOUNDS = [
    ("南雅苑", "G1", "中山大道西", ("89号之一", "89之1"), "栋", 4, 9, 4),
    ("骏景花园一期", "G1", "中山大道中", ("1131号", "1131"), "栋", 5, 11, 2),
    ("骏景花园二期", "G1", "中山大道中", ("1133号", "1133"), "栋", 5, 11, 2),
    ("汇景新城", "G2", "天河北路", ("233号", "233"), "栋", 6, 18, 4),     # the same name in G4, another road
    ("汇景新城", "G4", "龙口西路", ("55号", "55"), "栋", 6, 18, 4),
    ("时代广场", "G4", "天河北路", ("28号", "28"), "座", 2, 30, 8),       # towers: A座/B座
]
OLD_STREETS = [("六运一街", "G2"), ("六运二街", "G2"), ("六运三街", "G2")]      # door, then flat: 六运一街5号601房
VILLAGE = [("东二巷", "G3"), ("西一巷", "G3"), ("牌坊大街", "G3")]             # 石牌村东二巷8号301房
FW = str.maketrans("0123456789", "０１２３４５６７８９")


def _houses() -> list[dict]:
    out = []
    for ci, (name, comm, road, (no_std, no), word, nb, nf, nr) in enumerate(COMPOUNDS):
        cname = dict(COMMUNITIES)[comm]
        for b in range(1, nb + 1):
            bname = "AB"[b - 1] if word == "座" else str(b)
            for f in range(1, nf + 1):
                for r in range(1, nr + 1):
                    room = f"{f}{r:02d}"
                    out.append(dict(code=f"C{ci}{b}{room}", mg=f"MG-{comm}", comm=comm, name=name, road=road, no=no,
                                    no_std=no_std, word=word, b=bname, f=str(f), room=room,
                                    std=f"{D}{S}{cname}{road}{no_std}{name}{bname}{word}{room}房"))
    for kind, streets in (("old", OLD_STREETS), ("village", VILLAGE)):
        for si, (road, comm) in enumerate(streets):
            cname = dict(COMMUNITIES)[comm]
            for door in range(1, 10):
                for f in range(1, 8 if kind == "old" else 5):
                    for r in range(1, 3):
                        room = f"{f}{r:02d}"
                        out.append(dict(code=f"{kind[0].upper()}{si}{door}{room}", mg=f"MG-{comm}", comm=comm, name="",
                                        road=road, no=str(door), no_std=f"{door}号", word=None, b=None, f=str(f),
                                        room=room, std=f"{D}{S}{cname}{road}{door}号{room}房"))
    return out


def _written(h: dict, k: int) -> tuple[str, set | None]:
    """The k-th way an officer writes house h, and — where the text names no road, door or community — the
    compound names it could mean (the text then fits every house of those names with its building and flat)."""
    road, no, room, name, b, word = h["road"], h["no"], h["room"], h["name"], h["b"], h["word"]
    cname = dict(COMMUNITIES)[h["comm"]]
    no_std = h["no_std"]
    if b is None:                                                     # old streets and the village
        forms = [h["std"], f"{road}{no_std}{room}房", f"{road}{no}号{room}", f"天河区{road}{no}号{room}室",
                 f"{cname}{road}{no}号{room}房", f"{road}{no}号{room}房（电联）".translate(FW) if k % 2 else
                 f"{road}{no}号{room}房 13912345678", f"{room}房 {road}{no}号", f"{road}{no}-{room}"]
        return forms[k % len(forms)], None
    stem = name[:-2] if name.endswith(("一期", "二期")) else name
    forms = [
        (h["std"], None),
        (f"{road}{no_std}{name}{b}{word}{room}房", None),
        (f"{name}{b}{word}{room}房", {name}),
        (f"{name}{b}{word}{room}".translate(FW), {name}),                       # full-width digits
        (f"{cname}{name}{b}{word}{room}", None),                                # the community settles a repeat
        (f"广州市{road}{no}号{b}{word}{room}", None),                           # no compound: road and door
        (f"{b}{word}{room}房 {name}", {name}),                                  # the building first
        (f"{road}{no}{name}{b}{word}{room}", None),                             # a door without 号
        (f"{name}{b}{word}{room}房 放门口快递柜", {name}),                          # courier noise
        (f"{stem}{b}{word}{room}", {n for n in {c[0] for c in COMPOUNDS} if n.startswith(stem)}),  # phase left out
    ]
    return forms[k % len(forms)]


def _fits(houses: list[dict], h: dict, names: set | None) -> int:
    if names is None:
        return 1
    return sum(1 for o in houses if o["name"] in names and o["b"] == h["b"] and o["room"] == h["room"])


@pytest.fixture
def district(store):
    houses = _houses()
    with store.connect() as c:
        load_district(c, "天河区", S, [(f"MG-{code}", code, name) for code, name in COMMUNITIES],
                      [(h["code"], h["mg"], h["std"], h["name"] or None, h["b"], None, h["f"], h["room"]) for h in houses],
                      [("fb", "floating", "floating/石牌派出所.csv")])
        yield c, houses


@pytest.mark.slow   # thousands of addresses against a whole district's houses
def test_a_second_district_unlike_the_demo(district):
    conn, houses = district
    assert len({h["code"] for h in houses}) == len(houses)
    rng = np.random.default_rng(2026)
    picks, ks = rng.integers(0, len(houses), 4000), rng.integers(0, 10, 4000)
    rows = []
    for i, (hi, k) in enumerate(zip(picks, ks)):
        h = houses[int(hi)]
        text, names = _written(h, int(k))
        rows.append((i + 2, f"F{i}", text, h["code"], _fits(houses, h, names) == 1))
    conn.executemany("INSERT INTO staging.floating (batch_id, row_no, record_no, current_address) VALUES ('fb', ?, ?, ?)", [r[:3] for r in rows])
    score = match_and_score(conn, rows, "第二个辖区（广州天河式）")
    assert not score["wrong"], score["wrong"][:5]
    assert not score["guessed"], score["guessed"][:5]
    assert score["rate"] >= 0.99, (len(score["right"]), score["one"], score["missed"][:15])
    assert score["one"] > 3000 and score["rows"] - score["one"] > 100


@pytest.mark.parametrize("text, parts", [
    ("201房 六运三街2号", ("六运三街", "2", None, None, "201")),             # the flat first
    ("东二巷4-402", ("东二巷", "4", None, None, "402")),                    # door-flat with a dash
    ("体育场路824-2", ("体育场路", "824-2", None, None, None)),             # a door's sub-number stays a door
    ("广州市中山大道西89之1号3栋203", ("中山大道西", "89之1", None, "3", "203")),
    ("中山大道西89之一南雅苑3栋403", ("中山大道西", "89之1", "南雅苑", "3", "403")),
    ("中山大道西89号之一南雅苑3栋403房", ("中山大道西", "89之1", "南雅苑", "3", "403")),
])
def test_forms_of_this_district_are_read(text, parts):
    from pipelines.address.parse import parse_lines

    row = parse_lines([text])[0]
    assert (row["road"], row["road_no"], row["compound"], row["building"], row["room"]) == parts
