"""Stewards teach the matcher once (issue 18): unknown addresses grouped by what is unknown, a decision kept
append-only with who and when, applied on every rebuild to every row with that spelling."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines.address import match_addresses
from pipelines.address.aliases import AliasRefused, list_aliases, record_alias, revoke_alias, unknown_groups
from pipelines.status.explain import _address_lines


def _load(conn, rows):
    conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('b1', ?, ?, ?)",
                     [(i + 2, f"R{i}", a) for i, a in enumerate(rows)])


def _by_row(conn):
    return {r[0]: r[1:] for r in conn.execute(
        "SELECT row_no, match_status, house_code, rule, address_basis(m), alias_id FROM core.address_matches m"
    ).fetchall()}


# the spellings clerks use for 芳草小区 that the matcher cannot know: a hundred rows, four spellings
SPELLINGS = ["芳草花苑3栋2单元501"] * 60 + ["芳草花苑3-2-502"] * 30 + ["芳 草 花 苑 4幢1单元501"] * 9 + ["芳草花苑9栋1单元101"]


def test_a_decision_resolves_every_row_with_that_spelling_and_survives_rebuilds(address_conn):
    conn = address_conn
    _load(conn, SPELLINGS + ["玉林北街12号3-2-501", "芳草小区三栋二单元五零一"])
    match_addresses(conn)
    groups = unknown_groups(conn)
    # one group per unknown spelling, with its number of rows, largest first
    assert [(g["kind"], g["key"], g["rows"]) for g in groups] == [
        ("compound", "芳草花苑", 100), ("road", "玉林北街|12", 1)]
    assert groups[0]["title"] == "未知小区名" and groups[0]["spellings"] == 4

    decision = record_alias(conn, "compound", "芳草花苑", "芳草小区", by="张三", reason="现场核实",
                            at=dt.datetime(2026, 11, 2, 9, 30))
    assert decision.describe() == "小区写法“芳草花苑”认定为“芳草小区”"
    record_alias(conn, "road", "玉林北街", "玉林北路", by="李四")
    for _ in range(2):                                   # every rebuild applies them again
        match_addresses(conn)
        got = _by_row(conn)
        assert sum(1 for r in got.values() if r[0] == "matched") == 101
        assert got[2][:2] == ("matched", "H01") and got[62][:2] == ("matched", "H02")
        assert got[92][:2] == ("matched", "H03")
        assert got[101][0] == "no_match" and "没有9栋" in got[101][3]      # the building is still unknown
        assert got[102][:2] == ("matched", "H01")                          # the road decision
        assert got[2][2].endswith("_alias") and "按数据管理员认定" in got[2][3]
        assert got[2][4] == decision.alias_id
    assert [(g["kind"], g["rows"]) for g in unknown_groups(conn)] == [("building", 1)]

    # explain names who decided, and when
    rid = conn.execute("SELECT record_id FROM core.address_matches WHERE row_no = 2").fetchall()[0][0]
    assert "数据管理员 张三 于 2026-11-02 认定小区写法“芳草花苑”即“芳草小区”" in _address_lines(conn, [rid])[rid]

    # withdrawn: the rows are unknown again on the next rebuild; nothing was ever deleted
    revoke_alias(conn, "compound", "芳草花苑", by="张三", reason="认定有误")
    match_addresses(conn)
    assert sum(1 for r in _by_row(conn).values() if r[0] == "matched") == 2
    assert len(list_aliases(conn, active_only=False)) == 3 and len(list_aliases(conn)) == 1


def test_a_spelling_as_one_house_and_a_compound_only_at_one_door(address_conn):
    conn = address_conn
    _load(conn, ["芳草小区3栋2单元", "芳 草 小 区 3栋2单元", "锦绣园1栋1单元101", "玉林南路8号锦绣园1栋1单元101"])
    match_addresses(conn)
    got = _by_row(conn)
    assert [got[r][0] for r in sorted(got)] == ["multi_match"] * 3 + ["matched"]
    record_alias(conn, "house", "芳草小区3栋2单元", "H02", by="王五", reason="只有502有人住")
    # 锦绣园 at 玉林北路30号 is 锦绣苑 (only there: elsewhere it stays as ambiguous as it is)
    record_alias(conn, "compound", "锦绣园", "锦绣苑", by="王五", context="玉林北路30号")
    conn.execute("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('b1', 6, 'R4', '玉林北路30号锦绣园1栋1单元101')")
    match_addresses(conn)
    got = _by_row(conn)
    assert got[2][:3] == ("matched", "H02", "alias_house") and got[3][:2] == ("matched", "H02")
    assert "数据管理员 王五 于" in got[2][3] and "认定此地址写法即房屋 H02" in got[2][3]
    assert got[4][0] == "multi_match"
    assert got[6][:2] == ("matched", "H04")


@pytest.mark.parametrize("kind, spelling, target, kwargs, message", [
    ("compound", "芳草花苑", "不存在的小区", {}, "不在实有房屋中"),
    ("house", "芳草小区3栋", "X999", {}, "房屋编码“X999”不在实有房屋中"),
    ("house", "同上", "H01", {}, "不是地址"),
    ("road", "玉林北街", "玉林北路", {"context": "玉林北路12号"}, "只有小区写法"),
    ("compound", "芳草花苑", "芳草小区", {"context": "芳草小区"}, "读不出道路和门牌号"),
    ("compound", "芳草花苑", "芳草小区", {"by": " "}, "认定人"),
    ("compound", "😀", "芳草小区", {}, "没有可识别的文字"),
])
def test_decisions_the_store_refuses(address_conn, kind, spelling, target, kwargs, message):
    kwargs = {"by": "张三", **kwargs}
    with pytest.raises(AliasRefused, match=message):
        record_alias(address_conn, kind, spelling, target, **kwargs)
    assert list_aliases(address_conn, active_only=False) == []
    with pytest.raises(AliasRefused, match="没有生效中的认定"):
        revoke_alias(address_conn, "compound", "芳草花苑", by="张三", reason="x")


def test_the_command_line_masks_what_it_lists_and_audits_what_it_decides(store, address_conn, capsys):
    from pipelines.cli import main
    from pipelines.web import audit_log

    conn = address_conn
    # a police entry that ends in the caller's phone and quotes an ID: listed scrubbed
    _load(conn, ["芳草花苑3栋2单元501 13912345678"] * 3 + ["芳草花苑3-2-502 身份证510104199001011230"])
    match_addresses(conn)
    conn.close()
    home = str(store.path.parent)
    assert main(["address", "unknown", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "芳草花苑" in out and "4 行" in out
    assert "13912345678" not in out and "510104199001011230" not in out
    assert main(["address", "alias", "--compound", "芳草花苑", "--is", "芳草小区", "--by", "张三",
                 "--reason", "现场核实", "--home", home]) == 0
    assert "已记录" in capsys.readouterr().out
    events = [(e["source"], e["action"], e["what"], e["user"]) for e in audit_log(store.path.parent, dt.date(2000, 1, 1))]
    assert ("cli", "view", "address unknown", events[0][3]) in events
    assert ("cli", "alias", "芳草花苑", "张三") in events
