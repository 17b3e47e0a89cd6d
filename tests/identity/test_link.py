"""Identity resolution on hand-made person records (real DuckDB store files)."""
from __future__ import annotations

import datetime as dt

from pipelines.identity import link_persons
from pipelines.identity.pinyin import name_pinyin
from tests.identity.identity_records import load_records, make_id, record

ZW = make_id("19900101", "011")        # 张伟 in flat H1
ZW2 = make_id("19900101", "031")       # another 张伟, same birthday, flat H2


def links(conn) -> dict[str, tuple]:
    return {k: (p, r) for k, p, r in conn.execute(
        "SELECT record_key, person_key, rule FROM core.person_links").fetchall()}


def typo(id_number: str, pos: int) -> str:
    """Change one digit (1-based position) so the check digit fails."""
    digit = str((int(id_number[pos - 1]) + 1) % 10)
    return id_number[:pos - 1] + digit + id_number[pos:]


def test_same_valid_id_is_one_person_and_two_ids_are_two(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张伟", id_number=ZW, house="H1"),
            record("2", "张伟", template="hukou", id_number=ZW),
            record("3", "张伟", template="floating", id_number=ZW, house="H1"),
            record("4", "张伟", id_number=ZW2, house="H2"),
        ])
        summary = link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["residents:b1:1"][0] == got["hukou:b1:2"][0] == got["floating:b1:3"][0]
        assert got["residents:b1:4"][0] != got["residents:b1:1"][0]
        assert {r for _, r in got.values()} == {"id_exact"}
        assert summary["persons"] == 2
        persons = conn.execute("SELECT id_number, n_records FROM core.persons ORDER BY id_number").fetchall()
        assert sorted(persons) == sorted([(ZW, 3), (ZW2, 1)])
        keys = [k for (k,) in conn.execute("SELECT person_key FROM core.persons").fetchall()]
        assert all(len(k) == 11 and k.startswith("P") and k[1:].isdigit() for k in keys)
        # The working tables (scratch.* in the store, TEMP tables) are gone after the run; scratch.record_delta is
        # core.person_records' hand-off to later stages, scratch.link_delta identity's to evidence, scratch.handed_sets
        # their counters, scratch.link_edges what identity's next incremental run widens its closure by
        # (docs/architecture.md, "Incremental builds").
        left = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                            "WHERE (schema_name = 'scratch' AND table_name NOT IN "
                            "('record_delta', 'link_delta', 'handed_sets', 'link_edges')) "
                            "OR (temporary AND table_name LIKE '\\_%' ESCAPE '\\')").fetchall()
        assert left == []


def test_typo_id_joins_the_right_person(store, run_date):
    swapped = ZW[:10] + ZW[11] + ZW[10] + ZW[12:]  # 19900101 -> 19901001: an adjacent swap
    assert swapped != ZW
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张伟", id_number=ZW, house="H1"),
            record("2", "李娜", id_number=make_id("19850505", "022"), house="H3"),
            record("3", "张伟", template="deaths", id_number=typo(ZW, 16), id_valid=False),
            record("4", "张玮", template="assistance", id_number=swapped, id_valid=False),
            # One digit from 张伟's ID but another name: a failed ID alone is never a key.
            record("5", "王芳", template="disability", id_number=typo(ZW, 17), id_valid=False),
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["deaths:b1:3"] == (got["residents:b1:1"][0], "id_typo")
        assert got["assistance:b1:4"] == (got["residents:b1:1"][0], "id_typo")
        assert got["disability:b1:5"] == (None, "unmatched")
        log = conn.execute("SELECT matched_id_number FROM core.merge_log WHERE record_key = 'deaths:b1:3'").fetchall()[0]
        assert log == (ZW,)


def test_typo_close_to_two_valid_ids_is_not_linked(store, run_date):
    a = make_id("19900101", "011")
    b = make_id("19900101", "012")
    bad = b[:17] + a[17]  # one digit from a (position 17) and from b (the check digit)
    assert bad not in (a, b)
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张伟", id_number=a, house="H1"),
            record("2", "张伟", id_number=b, house="H2"),
            record("3", "张伟", template="deaths", id_number=bad, id_valid=False),
        ])
        link_persons(conn, run_date=run_date)
        assert links(conn)["deaths:b1:3"] == (None, "ambiguous")
        assert conn.execute(
            "SELECT count(*) FROM core.link_candidates WHERE record_key = 'deaths:b1:3'").fetchall()[0] == (2,)


def test_homophone_name_with_same_birth_and_house_is_linked(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张伟", id_number=ZW, house="H1", sex="男"),
            record("2", "张玮", birth="1990-01-01", house="H1", sex="男"),
            record("3", "张玮", template="visits", house="H1"),  # name + house only
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        person = got["residents:b1:1"][0]
        assert got["residents:b1:2"] == (person, "name_match")
        assert got["visits:b1:3"][0] == person
        score = conn.execute("SELECT score FROM core.person_links WHERE record_key = 'residents:b1:2'").fetchall()[0][0]
        assert score >= 0.99


def test_surname_readings():
    assert name_pinyin("单田芳") == ("shan tian fang", "shan")
    assert name_pinyin("曾国藩")[1] == "zeng"
    assert name_pinyin("解放")[1] == "xie"
    assert name_pinyin("仇英")[1] == "qiu"
    assert name_pinyin("区小明")[1] == "ou"
    assert name_pinyin("朴树")[1] == "piao"
    assert name_pinyin("欧阳修") == ("ou yang xiu", "ou")


def test_shan_surname_links_a_typo_id_written_with_a_homophone(store, run_date):
    # 单 read as a surname is shan, so 善丽 and 单丽 sound alike; read as a word (dan) they do not.
    sl = make_id("19800501", "042")
    with store.connect() as conn:
        load_records(conn, [
            record("1", "单丽", id_number=sl, house="H1"),
            record("2", "善丽", template="deaths", id_number=typo(sl, 15), id_valid=False),
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["deaths:b1:2"] == (got["residents:b1:1"][0], "id_typo")
        assert conn.execute("SELECT pinyin FROM core.identity_name_pinyin WHERE name = '单丽'").fetchall()[0] == ("shan li",)


def test_ambiguous_record_is_left_with_candidates(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张伟", id_number=ZW, house="H1", sex="男"),
            record("2", "张伟", id_number=ZW2, house="H2", sex="男"),
            record("3", "张伟", birth="1990-01-01", sex="男"),
        ])
        link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["residents:b1:3"] == (None, "ambiguous")
        cands = conn.execute(
            "SELECT rank, candidate_person_key FROM core.link_candidates WHERE record_key = 'residents:b1:3' ORDER BY rank"
        ).fetchall()
        assert [r for r, _ in cands] == [1, 2]
        assert {k for _, k in cands} == {got["residents:b1:1"][0], got["residents:b1:2"][0]}


def test_records_without_id_found_persons_or_wait_for_stewards(store, run_date):
    with store.connect() as conn:
        load_records(conn, [
            record("1", "李四", house="H9", sex="男"),                        # no ID, name + house
            record("2", "李四", template="visits", house="H9"),              # same person, seen on a visit
            record("3", "王五"),                                              # name only
            record("4", "赵六", template="deaths", id_number="510104199001011234", id_valid=False),
            record("5", "钱七", template="assistance", id_number=None, house="H8"),
            record("6", "孙八", birth="1970-02-03"),                         # name + birth date
        ])
        summary = link_persons(conn, run_date=run_date)
        got = links(conn)
        assert got["residents:b1:1"] == (got["visits:b1:2"][0], "singleton")
        assert got["visits:b1:2"][1] == "name_match" and got["visits:b1:2"][0] is not None
        assert got["residents:b1:3"] == (None, "unlinkable")
        assert got["deaths:b1:4"] == (None, "unmatched")
        assert got["assistance:b1:5"] == (None, "unmatched")
        assert got["residents:b1:6"][1] == "singleton"
        assert summary["persons"] == 2
        assert conn.execute("SELECT count(*) FROM core.person_links").fetchall()[0][0] == 6


def test_keys_are_stable_across_reruns_and_new_batches(store, run_date):
    first = [
        record("1", "张伟", id_number=ZW, house="H1", sex="男"),
        record("2", "李娜", id_number=make_id("19850505", "022"), house="H3"),
        record("3", "李四", house="H9", sex="男"),
        record("4", "王芳", birth="1975-03-04", house="H4"),
    ]
    with store.connect() as conn:
        load_records(conn, first)
        link_persons(conn, run_date=run_date)
        before = links(conn)
        log_rows = conn.execute("SELECT count(*) FROM core.merge_log").fetchall()[0][0]
        link_persons(conn, run_date=run_date)
        assert links(conn) == before
        assert conn.execute("SELECT count(*) FROM core.merge_log").fetchall()[0][0] == log_rows
        # person_links written before record_id existed: the log still compares each record with itself
        conn.execute("UPDATE core.person_links SET record_id = NULL")
        link_persons(conn, run_date=run_date)
        assert conn.execute("SELECT count(*) FROM core.merge_log").fetchall()[0][0] == log_rows

        # A new batch: a new person, 李四 now shows a valid ID, and a visit to 王芳.
        li_si = make_id("19660606", "051")
        later = first + [
            record("5", "周杰", id_number=make_id("20000101", "013"), house="H5"),
            record("6", "李四", template="hukou", id_number=li_si, house="H9", sex="男", birth="1966-06-06"),
            record("7", "王芳", template="visits", house="H4", event="2024-05-01"),
        ]
        load_records(conn, later)
        summary = link_persons(conn, run_date=run_date + dt.timedelta(days=30))
        after = links(conn)
        for key, (person, _) in before.items():
            assert after[key][0] == person, key
        assert after["visits:b1:7"][0] == before["residents:b1:4"][0]
        old_max = max(p for p, _ in before.values())
        assert after["residents:b1:5"][0] > old_max
        assert summary["new_keys"] == 1
        # 李四's no-ID record now sits with his valid ID and the person keeps its key.
        assert after["hukou:b1:6"][0] == before["residents:b1:3"][0]
        assert conn.execute(
            "SELECT count(*) FROM core.person_key_registry WHERE anchor_kind = 'id' AND anchor = ?", [li_si]
        ).fetchall()[0][0] == 1


def test_record_keys_kept_from_the_sha_spelling_are_respelled_once(store, run_date):
    """A store from before record_key named the batch by number: the record-founded person keeps its key."""
    sha = "ab" * 32
    with store.connect() as conn:
        load_records(conn, [record("3", "李四", house="H9", sex="男"), record("1", "张伟", id_number=ZW, house="H1"),
                            record("2", "李四", template="visits", house="H9")])
        conn.execute("UPDATE raw.batches SET batch_id = ?", [sha])
        conn.execute("UPDATE core.person_records SET batch_id = ?, record_key = record_key(template, 1, row_no)", [sha])
        link_persons(conn, run_date=run_date)
        before = links(conn)
        log = conn.execute("SELECT * FROM core.merge_log ORDER BY ALL").fetchall()
        registry = conn.execute("SELECT * FROM core.person_key_registry ORDER BY ALL").fetchall()
        assert ("record", "residents:1:3") in {(k, a) for _, k, a, _ in registry}
        # as the earlier version left it: every stored record key with the batch's SHA-256
        old = f"replace({{}}, ':1:', ':{sha}:')"
        conn.execute(f"UPDATE core.person_key_registry SET anchor = {old.format('anchor')} WHERE anchor_kind = 'record'")
        conn.execute(f"UPDATE core.person_links SET record_key = {old.format('record_key')}, record_id = NULL")
        conn.execute(f"UPDATE core.merge_log SET record_key = {old.format('record_key')}, "
                     f"matched_record_key = {old.format('matched_record_key')}")
        assert conn.execute("SELECT count(*) FROM core.merge_log WHERE length(record_key) > 64").fetchall()[0][0] == 3

        link_persons(conn, run_date=run_date + dt.timedelta(days=1))
        assert links(conn) == before
        assert conn.execute("SELECT * FROM core.merge_log ORDER BY ALL").fetchall() == log
        assert conn.execute("SELECT * FROM core.person_key_registry ORDER BY ALL").fetchall() == registry


def test_char_comparison_counts_characters_not_bytes(store):
    with store.connect() as conn:
        from pipelines.store import Store
        Store.run_sql(conn, "core/identity_macros.sql")
        q = "SELECT identity_chars_within1(str_split(?, ''), str_split(?, ''))"
        assert conn.execute(q, ["张伟", "张玮"]).fetchall()[0][0]
        assert conn.execute(q, ["欧阳修", "欧修"]).fetchall()[0][0]
        assert not conn.execute(q, ["张伟", "李娜"]).fetchall()[0][0]
        assert not conn.execute(q, ["张大伟", "张伟明"]).fetchall()[0][0]


def test_runner_up_person_is_ranked_after_each_person_is_cut_to_its_best_profile(store, run_date):
    # 张伟 (ZW) has two profiles at H1: with sex and without. Another 张伟 (ZW2) lives at H1 too,
    # sex unknown. The visit (name, house, sex) fits ZW best but ZW2 nearly as well: ambiguous.
    # Ranking persons before cutting them to one profile put ZW2 at rank 3 and linked the visit.
    assert ZW < ZW2
    with store.connect() as conn:
        load_records(conn, [
            record("1", "张伟", id_number=ZW, house="H1", sex="男"),
            record("2", "张伟", template="hukou", id_number=ZW, house="H1"),
            record("3", "张伟", id_number=ZW2, house="H1"),
            record("4", "张伟", template="visits", house="H1", sex="男"),
        ])
        link_persons(conn, run_date=run_date)
        assert links(conn)["visits:b1:4"] == (None, "ambiguous")
        cands = conn.execute(
            "SELECT candidate_person_key FROM core.link_candidates WHERE record_key = 'visits:b1:4' ORDER BY rank"
        ).fetchall()
        assert len(cands) == 2


def test_tied_profiles_of_one_person_link_on_every_rerun(store, run_date):
    # Two profiles of the same person score exactly alike for the visit (name + house only):
    # the visit links to that person on every run instead of founding a person now and then.
    with store.connect() as conn:
        load_records(conn, [
            record("1", "王洁", id_number=make_id("19511013", "370"), house="H7", sex="女"),
            record("2", "王洁", template="hukou", id_number=make_id("19511013", "370"), house="H7"),
            record("3", "王洁", template="visits", house="H7"),
        ])
        first = None
        for _ in range(5):
            link_persons(conn, run_date=run_date)
            got = links(conn)
            assert got["visits:b1:3"] == (got["residents:b1:1"][0], "name_match")
            first = first or got
            assert got == first


def test_a_record_dated_centuries_off_is_linked_and_speaks_last(store, run_date):
    # an event date typed as 0001-01-01 is a valid date: it ranks as the oldest record, the run does not fail
    with store.connect() as conn:
        load_records(conn, [record("1", "张伟", id_number=ZW, house="H1", event="0001-01-01"),
                            record("2", "张伟伟", id_number=ZW, house="H1", event="2024-01-01")])
        link_persons(conn, run_date=run_date)
        assert conn.execute("SELECT name, n_records FROM core.persons").fetchall() == [("张伟伟", 2)]
