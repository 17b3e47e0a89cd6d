"""Members of one household stay apart: twins, a parent and a child with a mistyped birth year.

House and birth date are not independent within a household, so a pair at one house whose birth dates
agree (or differ by a digit) and whose given names differ beyond a homophone is never merged by score
(identity.yaml, household_guard); the record founds its own person and goes to the stewards with the
household member as a candidate. The same person written with a homophone still links.
"""
from __future__ import annotations

import math

import pytest

from pipelines.identity import link_persons
from pipelines.quality import build_queue
from tests.identity.identity_records import load_records, make_id, record

TWIN_B = make_id("20150311", "013")          # 张子轩, the twin with an ID
TWIN_A = make_id("20150311", "021")          # 张子涵, the other twin (an ID only some tests show)
MOTHER = make_id("19680503", "024")          # 刘秀英


def links(conn) -> dict[str, tuple]:
    return {k: (p, r) for k, p, r in conn.execute(
        "SELECT record_key, person_key, rule FROM core.person_links").fetchall()}


def candidates(conn, key: str) -> list[tuple]:
    return conn.execute("SELECT candidate_person_key, reason FROM core.link_candidates WHERE record_key = ? "
                        "ORDER BY rank", [key]).fetchall()


@pytest.mark.parametrize("name_a", ["张子涵", "冯彬娟"])
def test_twin_without_an_id_is_not_merged_into_the_twin_with_one(store, run_date, name_a):
    # 张子涵 / 张子轩 share surname and a character of the given name (one character apart);
    # 冯彬娟 / 张子轩 share nothing (the case that was merged at probability 0.9988 before).
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张子轩", id_number=TWIN_B, house="H1", sex="男"),
            record("2", "张子轩", template="hukou", id_number=TWIN_B, house="H1"),
            record("3", name_a, birth="2015-03-11", house="H1", sex="男"),            # no ID: a child's row
            record("4", name_a, template="visits", house="H1"),                     # the same twin, visited
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        b = got["residents:b1:1"][0]
        a = got["residents:b1:3"][0]
        assert a is not None and a != b
        assert got["visits:b1:4"][0] == a
        # The guard decided only where the score alone would have merged them.
        assert got["residents:b1:3"][1] == ("kept_apart" if name_a == "张子涵" else "singleton")
        assert candidates(conn, "residents:b1:3") == [(b, "likely_twin")]
        assert conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0] == 2


def test_twins_both_without_ids_stay_two_people_and_are_asked_once(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张子轩", birth="2015-03-11", house="H1", sex="男"),
            record("2", "张子涵", birth="2015-03-11", house="H1", sex="男"),
            record("3", "张子轩", template="visits", house="H1"),
            record("4", "张子涵", template="visits", house="H1"),
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        a, b = got["residents:b1:2"][0], got["residents:b1:1"][0]
        assert None not in (a, b) and a != b
        assert got["visits:b1:3"][0] == b and got["visits:b1:4"][0] == a
        asked = conn.execute("SELECT record_key, candidate_person_key, reason FROM core.link_candidates").fetchall()
        assert len(asked) == 1 and asked[0][2] == "likely_twin"
        assert {asked[0][0], asked[0][1]} in ({"residents:b1:2", b}, {"residents:b1:1", a})


def test_a_nameless_record_does_not_chain_twins_together(store, run_date):
    # A record without a name resembles both twins equally: it must not bridge them into one person.
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张子轩", birth="2015-03-11", house="H1", sex="男"),
            record("2", "张子涵", birth="2015-03-11", house="H1", sex="男"),
            record("3", None, birth="2015-03-11", house="H1", sex="男"),
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["residents:b1:1"][0] != got["residents:b1:2"][0]
        assert got["residents:b1:3"][0] is None


@pytest.mark.parametrize("daughter_birth, reason", [
    ("1968-05-03", "likely_twin"),          # the daughter's row carries her mother's birth date
    ("1998-05-03", "household_member"),     # her own, one digit from her mother's (6 / 9)
])
def test_mother_and_daughter_with_the_same_name_pattern_are_not_merged(store, run_date, daughter_birth, reason):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "刘秀英", id_number=MOTHER, house="H3", sex="女"),
            record("2", "刘秀娟", birth=daughter_birth, house="H3", sex="女"),      # no ID
            record("3", "刘秀英", template="visits", house="H3"),                  # the mother, visited
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        mother = got["residents:b1:1"][0]
        assert got["residents:b1:2"][0] not in (None, mother)
        assert got["residents:b1:2"][1] == "kept_apart"
        assert got["visits:b1:3"] == (mother, "name_match")
        assert candidates(conn, "residents:b1:2") == [(mother, reason)]


def test_homophone_typo_of_the_same_person_still_links_beside_the_twin(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张子涵", id_number=TWIN_A, house="H1", sex="男"),
            record("2", "张子轩", id_number=TWIN_B, house="H1", sex="男"),
            record("3", "张子寒", birth="2015-03-11", house="H1", sex="男"),   # 涵 typed as 寒 (both hán), no ID
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["residents:b1:3"] == (got["residents:b1:1"][0], "name_match")
        assert candidates(conn, "residents:b1:3") == []
        # The link is spelled out as the model weighed it: the levels, and weights summing to its score.
        levels = conn.execute("""
            SELECT comparison, level, m, u, weight FROM core.link_comparison_levels
            WHERE record_key = 'residents:b1:3' AND role = 'link' ORDER BY position""").fetchall()
        assert [c for c, *_ in levels] == ["prior", "name", "birth_date", "sex", "house_code"]
        assert [lv for _, lv, *_ in levels][1:] == ["拼音相同", "出生日期相同", "性别相同", "同一房屋"]
        for comparison, _, m, u, weight in levels[1:]:
            assert weight == pytest.approx(math.log2(m / u)), comparison
        total = sum(w for *_, w in levels)
        score = conn.execute("SELECT score FROM core.person_links WHERE record_key = 'residents:b1:3'").fetchall()[0][0]
        assert 2 ** total / (1 + 2 ** total) == pytest.approx(score, rel=1e-12)


def test_rules_say_what_decided(store, run_date):
    zw = make_id("19900101", "011")
    with store.connect() as conn:
        load_records(conn, [
            record("1", "李伟", id_number=zw, house="H1", sex="男"),
            record("2", "张伟", birth="1990-01-01", house="H1", sex="男"),   # surname mistyped: one character apart
            record("3", None, template="floating", birth="1990-01-01", house="H1", sex="男"),   # no name at all
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        person = got["residents:b1:1"][0]
        assert got["residents:b1:2"] == (person, "near_name_match")
        assert got["floating:b1:3"] == (person, "score_match")
        levels = dict(conn.execute("SELECT record_key, list(level ORDER BY position)[2] FROM core.link_comparison_levels "
                                   "WHERE role = 'link' GROUP BY 1").fetchall())
        assert levels == {"residents:b1:2": "差一个字", "floating:b1:3": "缺失"}


def test_stewards_see_the_twin_and_why(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张子轩", id_number=TWIN_B, house="H1", sex="男"),
            record("2", "张子涵", birth="2015-03-11", house="H1", sex="男"),
        ])
        # the batch's file name, for the message
        conn.execute("UPDATE raw.batches SET file_name = '芳草社区实有人口.csv'")
        link_persons(conn, run_date=run_date)
        build_queue(conn)
        issues = conn.execute("SELECT rule, message, suggested_fix FROM quality.issues "
                              "WHERE source = 'linkage'").fetchall()
        assert len(issues) == 1
        rule, message, fix = issues[0]
        assert rule == "link_likely_twin" and fix is None
        assert message.startswith("芳草社区实有人口.csv 第2行 张子涵")
        assert "张子轩" in message and "双胞胎" in message and "已按两人处理" in message
