"""The recipe of docs/architecture.md ("How to add a report family"), followed with a fixture registry: a registry
entry and one SQL file named after the family make a report, rendered as HTML and XLSX on a real store."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from pipelines.publish.audit import handouts
from pipelines.reports import FAMILIES, render_report
from pipelines.reports.registry import load_families

from .conftest import AS_OF, hiding_nothing
from .test_reports import read_list, table

TOY = """
families:
  households-by-community:
    title: 在住人员与住户统计
    period: month
    lists:
      elderly: {title: 八十岁以上老人名单, extract: elderly-80plus, where: "状态 = '在住'"}
    sections:
      - title: 按社区统计
        table: r_toy
        order: _c NULLS LAST
        text: [社区]
        note: 住户为有人在住的房屋
"""

# what the family counts, by the marts' as-of tables rp_* (and its period, for the entry says `period: month`)
TOY_SQL = """
CREATE OR REPLACE TEMP TABLE r_toy AS
SELECT coalesce(community_name, '（未定位到网格）') AS 社区, count(*) AS 实有人口,
       count(*) FILTER (WHERE first_presence >= getvariable('period_start')) AS 本期迁入,
       count(DISTINCT house_code) AS 有人居住户数, min(community_code) AS _c
FROM rp_persons WHERE status = '在住' GROUP BY ALL;
"""


@pytest.fixture
def toy(tmp_path):
    (tmp_path / "families.yaml").write_text(TOY, encoding="utf-8")
    (tmp_path / "households_by_community.sql").write_text(TOY_SQL, encoding="utf-8")
    return load_families(tmp_path / "families.yaml", tmp_path)


def test_a_family_is_an_entry_and_an_sql_file(conn, toy, tmp_path):
    out = tmp_path / "out"
    with hiding_nothing():
        paths = render_report(conn, "households-by-community", out_dir=out, as_of=AS_OF, home=tmp_path, families=toy)
    assert [p.name for p in paths] == ["households-by-community.html", "households-by-community.xlsx",
                                       "households-by-community-elderly.csv"]
    expected = conn.execute("""
        SELECT community_name, count(*), count(*) FILTER (WHERE first_presence >= DATE '2026-10-01'),
               count(DISTINCT house_code)
        FROM marts.persons WHERE status = '在住' AND community_name IS NOT NULL
        GROUP BY ALL ORDER BY min(community_code)""").fetchall()
    ws = openpyxl.load_workbook(paths[1])["按社区统计"]
    header, body = table(ws)
    assert header == ["社区", "实有人口", "本期迁入", "有人居住户数"]
    assert [tuple(r) for r in body[:-1]] == expected and body[-1][0] == "合计"
    assert any(r[2] for r in expected)          # the period reaches the SQL: some moved in this month
    titles = " ".join(str(c.value) for c in ws["A"][:4] if c.value)
    assert "在住人员与住户统计" in titles
    html = paths[0].read_text(encoding="utf-8")
    assert "在住人员与住户统计" in html and "2026年10月1日—2026年10月31日" in html
    assert "住户为有人在住的房屋；八十岁以上老人名单见文件“households-by-community-elderly.csv”" in html
    header, rows = read_list(paths[2])
    assert rows and {r[header.index("状态")] for r in rows} == {"在住"}
    assert {h["name"] for h in handouts(tmp_path, dt.datetime(2000, 1, 1))} >= {"households-by-community", "households-by-community-elderly"}


def test_a_family_whose_period_may_be_chosen_takes_the_start_given(conn, tmp_path):
    """`period_from: true` on an entry without a builder: --from reaches its SQL and its title line."""
    (tmp_path / "families.yaml").write_text(TOY.replace("period: month", "period: month\n    period_from: true"),
                                            encoding="utf-8")
    (tmp_path / "households_by_community.sql").write_text(TOY_SQL, encoding="utf-8")
    toy = load_families(tmp_path / "families.yaml", tmp_path)
    start = dt.date(2026, 10, 20)
    with hiding_nothing():
        paths = render_report(conn, "households-by-community", out_dir=tmp_path / "out", as_of=AS_OF, home=tmp_path,
                              families=toy, period_start=start)
    expected = conn.execute("""
        SELECT count(*) FILTER (WHERE first_presence >= ?) FROM marts.persons
        WHERE status = '在住' AND community_name IS NOT NULL GROUP BY community_code ORDER BY community_code""",
                            [start]).fetchall()
    header, body = table(openpyxl.load_workbook(paths[1])["按社区统计"])
    assert [(r[header.index("本期迁入")],) for r in body[:-1]] == expected
    assert "2026年10月20日—2026年10月31日" in paths[0].read_text(encoding="utf-8")
    from pipelines.publish.grants import NotAvailable

    with pytest.raises(NotAvailable, match="晚于统计截止日期"):
        render_report(conn, "households-by-community", out_dir=tmp_path / "out", as_of=AS_OF, home=tmp_path,
                      families=toy, period_start=AS_OF + dt.timedelta(days=1))


def test_the_registrys_families_each_have_their_sql_file():
    assert all(f.sql.name == f.key.replace("-", "_") + ".sql" and f.sql.is_file() for f in FAMILIES.values())


def test_an_entry_without_its_sql_file_or_tables_is_refused(tmp_path):
    (tmp_path / "families.yaml").write_text(TOY, encoding="utf-8")
    with pytest.raises(ValueError, match="缺少 SQL 文件 .*households_by_community.sql"):
        load_families(tmp_path / "families.yaml", tmp_path)
    (tmp_path / "households_by_community.sql").write_text(TOY_SQL, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(TOY.replace("sections:", "unused:"), encoding="utf-8")
    with pytest.raises(ValueError, match="既无 sections 也无 builder"):
        load_families(tmp_path / "bad.yaml", tmp_path)
