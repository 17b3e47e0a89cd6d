"""Parts of real-shaped addresses read right (issue 18: road, number, building, unit and room each in ≥ 95 % of
the addresses that give them), on both halves of the corpus: the development half and the held-out half."""
from __future__ import annotations

from pipelines.address.corpus import FLOOR, FLOOR_PARTS, HALVES, PARTS, corpus_scores, read_corpus, score


def test_the_corpus_is_varied_and_split_in_two_halves():
    rows = read_corpus()
    assert len(rows) >= 400
    assert [r["half"] for r in rows[:4]] == [HALVES[0], HALVES[1], HALVES[0], HALVES[1]]
    notes = " ".join(r["备注"] for r in rows)
    for city in ("北京", "上海", "广州", "成都", "重庆", "深圳", "武汉", "杭州", "西安", "农村", "开发区", "快递"):
        assert city in notes, city
    for name in FLOOR_PARTS:                     # each part is given by many addresses of both halves
        for half in HALVES:
            assert sum(1 for r in rows if r["half"] == half and r[name]) >= 30, (name, half)


def test_each_part_is_read_right_in_both_halves():
    result = corpus_scores()
    failures = {half: {p: a for p, a in result[half]["accuracy"].items() if p in FLOOR_PARTS and a < FLOOR}
                for half in HALVES}
    assert not any(failures.values()), (failures, result[HALVES[1]]["wrong"][:10])
    assert result["passed"]


def test_only_addresses_that_give_a_part_count_for_it():
    rows = [{"地址": "a", "half": HALVES[0], **{n: "" for n, _ in PARTS}},
            {"地址": "b", "half": HALVES[1], **{n: "" for n, _ in PARTS}}]
    rows[0].update(道路="玉林北路", 室="501")
    parsed = [{"road": "玉林北路", "room": "502", "unit": "2"}, {"compound": "芳草小区"}]
    s = score(rows, parsed)
    assert s[HALVES[0]]["accuracy"]["道路"] == 1.0 and s[HALVES[0]]["accuracy"]["室"] == 0.0
    assert s[HALVES[0]]["accuracy"]["单元"] is None and s[HALVES[0]]["extra"]["单元"] == 1
    assert s[HALVES[1]]["extra"]["小区"] == 1 and s["全部"]["addresses"] == 2
