"""人口变动月报 (population-changes) on the demo street: per grid, 期初 and 期末 equal marts.grid_population built by
the product for the two dates, 期末 = 期初 + 增加 − 减少, and the persons listed as 增加/减少 are exactly those whose
being 在住 in the grid differs between the two dates. Also a period without changes, and a person who arrives and
leaves within the period (in neither 增加 nor 减少, listed among the status changes). The second month (visits
change statuses): tests/demo/test_followup.py."""
from __future__ import annotations

import csv
import datetime as dt
import shutil

import openpyxl
import pytest

from pipelines.cli import ensure_as_of
from pipelines.marts import build_marts
from pipelines.reports import render_report
from pipelines.status import build_status
from pipelines.store import Store
from tests.reports.conftest import hiding_nothing

D = dt.date(2026, 10, 31)
INS = ("迁入及新登记", "出生", "从其他网格迁入", "待核实转在住", "已离开转在住")
OUTS = ("迁出或离开", "死亡", "在住转待核实", "迁往其他网格")


def changes(conn, out, as_of: dt.date, period_start: dt.date | None = None, scope: str | None = None) -> dict:
    """Render the report (nothing withheld: these tests check what it counts) and read back what it counted."""
    with hiding_nothing():
        paths = render_report(conn, "population-changes", out_dir=out, as_of=as_of, home=out, scope=scope,
                              period_start=period_start)
    names = [d[0] for d in conn.execute("SELECT * FROM r_chg_grid LIMIT 0").description]
    grid = {r[names.index("_g")]: dict(zip(names, r)) for r in conn.execute("SELECT * FROM r_chg_grid").fetchall()}
    lists: dict[str, dict] = {}
    for key, kind, grid_code, person in conn.execute(
            "SELECT _list, 变动类型, _grid_code, 人员主键 FROM r_chg_list").fetchall():
        lists.setdefault(key, {}).setdefault(grid_code, {})[person] = kind
    files = {p.stem.rsplit("-", 1)[-1]: p for p in paths if p.suffix == ".csv"}
    for key, path in files.items():       # the CSV beside the report holds the list's rows
        with path.open(encoding="utf-8-sig", newline="") as f:
            assert len(list(csv.reader(f))) - 1 == sum(len(v) for v in lists.get(key, {}).values()), key
    return {"grid": grid, "lists": lists, "paths": paths}


def stock(conn) -> tuple[dict, dict]:
    """实有人口 per grid as the product publishes it (marts.grid_population), and who they are."""
    mart = dict(conn.execute('SELECT 网格编码, 实有人口 FROM marts.grid_population').fetchall())
    persons: dict[str, set] = {}
    for g, p in conn.execute("SELECT grid_code, person_key FROM core.person_status WHERE status = '在住' "
                             "AND grid_code IS NOT NULL").fetchall():
        persons.setdefault(g, set()).add(p)
    return mart, persons


def assert_reconciles(report: dict, start: tuple[dict, dict], end: tuple[dict, dict]) -> None:
    (start_mart, start_persons), (end_mart, end_persons) = start, end
    grids = {g for g in report["grid"] if g is not None}
    assert grids == set(end_mart)
    for g in grids:
        r = report["grid"][g]
        assert r["期初实有人口"] == start_mart[g], g
        assert r["期末实有人口"] == end_mart[g], g
        assert r["期末实有人口"] == r["期初实有人口"] + r["本期增加"] - r["本期减少"] and r["核对"] == "相符", r
        assert r["本期增加"] == sum(r[c] for c in INS) and r["本期减少"] == sum(r[c] for c in OUTS), r
        came = end_persons.get(g, set()) - start_persons.get(g, set())
        went = start_persons.get(g, set()) - end_persons.get(g, set())
        assert set(report["lists"].get("in", {}).get(g, {})) == came, g
        assert set(report["lists"].get("out", {}).get(g, {})) == went, g
        for c in INS:
            assert r[c] == sum(k == c for k in report["lists"].get("in", {}).get(g, {}).values()), (g, c)
        for c in OUTS:
            assert r[c] == sum(k == c for k in report["lists"].get("out", {}).get(g, {}).values()), (g, c)


@pytest.fixture
def demo_store(demo_world, tmp_path):
    """A writable copy of the demo store: the tests rebuild status and marts for the period's first day in it."""
    path = tmp_path / "store.duckdb"
    shutil.copy(demo_world["home"] / "store.duckdb", path)
    return Store(path)


def test_october_reconciles_with_both_months_grid_population(demo_store, tmp_path):
    with demo_store.connect() as conn:
        report = changes(conn, tmp_path / "out", D)
        end = stock(conn)
        ensure_as_of(conn, dt.date(2026, 9, 30))
        start = stock(conn)
    assert_reconciles(report, start, end)
    lists = report["lists"]
    # the demo's October: grid workers' collection confirms people (待核实 → 在住), newcomers, deaths
    assert sum(len(v) for v in lists["in"].values()) > 100 and lists["out"] and lists["deaths"]
    kinds = {k for v in lists["status"].values() for k in v.values()}
    assert {"待核实→在住", "（期初无记录）→在住"} <= kinds
    assert sum(r["期末实有人口"] for r in report["grid"].values()) == sum(end[0].values())


def test_a_community_sees_its_grids_and_whoever_came_or_went_there(demo_store, tmp_path):
    with demo_store.connect(read_only=True) as conn:
        whole = changes(conn, tmp_path / "all", D)
        one = changes(conn, tmp_path / "one", D, scope="芳草社区")
    assert one["grid"] and set(one["grid"]) < set(whole["grid"])
    for g, r in one["grid"].items():
        assert r == whole["grid"][g]
    for key in ("in", "out"):
        assert one["lists"].get(key, {}) == {g: v for g, v in whole["lists"].get(key, {}).items() if g in one["grid"]}


def test_a_period_without_changes_reports_none(demo_store, tmp_path):
    """A day on which nobody's status or grid changes, found with the product's own status build; the report
    for that one day says nothing changed and both stocks are the same."""
    with demo_store.connect() as conn:
        quiet = None
        for day in (D - dt.timedelta(days=i) for i in range(30)):
            build_status(conn, as_of=day - dt.timedelta(days=1))
            conn.execute("CREATE OR REPLACE TEMP TABLE before_ AS SELECT person_key, status, grid_code "
                         "FROM core.person_status")
            build_status(conn, as_of=day)
            n = conn.execute("SELECT count(*) FROM core.person_status s FULL JOIN before_ b USING (person_key) "
                             "WHERE s.status IS DISTINCT FROM b.status OR s.grid_code IS DISTINCT FROM b.grid_code"
                             ).fetchall()[0][0]
            if n == 0:
                quiet = day
                break
        assert quiet is not None, "no day without changes in the demo's last 30 days"
        build_marts(conn, as_of=quiet)      # core.person_status already is of that day
        report = changes(conn, tmp_path / "out", quiet, period_start=quiet)
        end = stock(conn)
    assert sum(end[0].values()) > 10000
    assert_reconciles(report, end, end)
    for r in report["grid"].values():
        assert r["本期增加"] == r["本期减少"] == 0 and r["期初实有人口"] == r["期末实有人口"]
    assert not any(report["lists"].values())
    ws = openpyxl.load_workbook(report["paths"][1]).worksheets[0]
    day = f"{quiet.year}年{quiet.month}月{quiet.day}日"
    assert any(f"统计期间：{day}—{day}" in str(c.value) for row in ws.iter_rows(max_row=3) for c in row)


def test_who_arrives_and_leaves_within_the_period_is_in_neither_stock_nor_flow(demo_store, tmp_path):
    """Over a long period (--from 2025-01-01) some persons first appear and are gone again by D: they count in
    neither 增加 nor 减少, the totals still reconcile, and the status-change list names them."""
    start_day = dt.date(2025, 1, 1)
    with demo_store.connect() as conn:
        report = changes(conn, tmp_path / "out", D, period_start=start_day)
        end = stock(conn)
        ensure_as_of(conn, start_day - dt.timedelta(days=1))
        start = stock(conn)
    assert_reconciles(report, start, end)
    passing = {p for v in report["lists"]["status"].values() for p, k in v.items() if k == "（期初无记录）→已离开"}
    assert passing
    counted = {p for key in ("in", "out") for v in report["lists"].get(key, {}).values() for p in v}
    assert not passing & counted


def test_the_period_start_must_not_be_after_the_as_of_date(demo_store, tmp_path):
    from pipelines.publish.grants import NotAvailable
    from pipelines.publish.registry import GrantRefused

    with demo_store.connect(read_only=True) as conn:
        with pytest.raises(NotAvailable, match="晚于统计截止日期"):
            render_report(conn, "population-changes", out_dir=tmp_path, as_of=D, home=tmp_path,
                          period_start=D + dt.timedelta(days=1))
        with pytest.raises(GrantRefused, match="没有可选的统计期间"):
            render_report(conn, "population-monthly", out_dir=tmp_path, as_of=D, home=tmp_path, period_start=D)


def test_the_command_line_renders_it_for_a_period_from_a_given_day(demo_copy, tmp_path, capsys):
    from pipelines.cli import main

    out = tmp_path / "out"
    assert main(["report", "population-changes", "--as-of", D.isoformat(), "--from", "2026-10-15", "--out", str(out),
                 "--scope", "芳草社区", "--home", str(demo_copy["home"])]) == 0
    printed = capsys.readouterr().out
    assert "统计期间 2026-10-15 至 2026-10-31" in printed
    html = (out / "population-changes_510107004001.html").read_text(encoding="utf-8")
    assert "统计期间：2026年10月15日—2026年10月31日" in html and "期初实有人口为 2026-10-14" in html
    assert sorted(p.name for p in out.glob("*.csv")) == [f"population-changes_510107004001-{k}.csv"
                                                          for k in ("deaths", "in", "out", "status")]
    assert main(["report", "grid-standards", "--as-of", D.isoformat(), "--from", "2026-10-15", "--out", str(out),
                 "--home", str(demo_copy["home"])]) == 2
    assert "没有可选的统计期间" in capsys.readouterr().err
