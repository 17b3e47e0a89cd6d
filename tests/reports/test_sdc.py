"""Statistical disclosure control, checked the way an analyst holding the published workbook would attack it:
read the XLSX back, take the relations the table states (合计 rows, row totals, a section rolling up into
another), and bound every withheld cell by integer programming. No withheld cell may come out as one number."""
from __future__ import annotations

import datetime as dt
import random

import numpy as np
import openpyxl
import pytest

from pipelines.publish.grants import narrow, prepare, resolve_scope
from pipelines.publish.masking import DEFAULT
from pipelines.reports import FAMILIES, render_report, sdc
from pipelines.reports.families import build
from pipelines.reports.model import Col, Report, Section
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)
HEADER_ROW = 4


def seeds(n: int, fast: int) -> list:
    """Seeds 0 … n-1 of a random test: the fast loop runs the first ``fast``, `make test` and CI every one."""
    return [s if s < fast else pytest.param(s, marks=pytest.mark.slow) for s in range(n)]


def sheet_rows(ws, n_rows: int):
    """The body and 合计 rows of a report sheet (values as a clerk's Excel reads them)."""
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + n_rows, values_only=True))
    return [list(r) for r in rows]


def published(report: Report, path) -> dict:
    """(section, row, column) -> published value (None: withheld) of every count of persons in the XLSX."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for si, (s, ws) in enumerate(zip(report.sections, wb.worksheets)):
        n = len(s.rows) + (1 if s.totals else 0)
        rows = sheet_rows(ws, n)
        assert [c.value for c in ws[HEADER_ROW]][:len(s.columns)] == [c.name for c in s.columns]
        for ri, row in enumerate(rows):
            for ci, c in enumerate(s.columns):
                if c.kind == "count":
                    v = row[ci]
                    assert v is None or isinstance(v, (int, float)), (s.title, c.name, v)   # never "<5"
                    out[(si, ri, ci)] = v
    return out


def relations(report: Report) -> list[tuple[tuple, list[tuple]]]:
    """The linear relations the published report states, derived here from its layout (a balance's left side is
    a list of cells where a total is one cell)."""
    rel = []
    for si, s in enumerate(report.sections):
        n = len(s.rows)
        counts = [ci for ci, c in enumerate(s.columns) if c.kind == "count"]
        if s.totals:
            rel += [((si, n, ci), [(si, ri, ci) for ri in range(n)]) for ci in counts]
        idx = {c.name: ci for ci, c in enumerate(s.columns)}
        for whole, parts in s.sums.items():
            rel += [((si, ri, idx[whole]), [(si, ri, idx[p]) for p in parts]) for ri in range(n + (1 if s.totals else 0))]
        for lhs, rhs in s.balances:     # sum(lhs) = sum(rhs): the left side stands where a total does
            rel += [([(si, ri, idx[c]) for c in lhs], [(si, ri, idx[c]) for c in rhs])
                    for ri in range(n + (1 if s.totals else 0))]
    titles = {s.title: i for i, s in enumerate(report.sections)}
    for detail, key, summary, cols in report.links:
        a, b = titles[detail], titles[summary]
        ka = [c.name for c in report.sections[a].columns].index(key)
        kb = [c.name for c in report.sections[b].columns].index(key)
        for rb, row in enumerate(report.sections[b].rows):
            for col in cols:
                ca = [c.name for c in report.sections[a].columns].index(col)
                cb = [c.name for c in report.sections[b].columns].index(col)
                rel.append(((b, rb, cb), [(a, ra, ca) for ra, r in enumerate(report.sections[a].rows) if r[ka] == row[kb]]))
    return rel


def exposed(report: Report, cells: dict) -> dict:
    """Withheld cells an attacker can pin to one whole number: min == max of an integer program over the
    relations (withheld counts of persons are at least 1, as zeros are always published)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    hidden = sorted(c for c, v in cells.items() if v is None)
    if not hidden:
        return {}
    pos = {c: i for i, c in enumerate(hidden)}
    a, b = [], []
    for total, parts in relations(report):
        row = np.zeros(len(hidden))
        rhs = 0.0
        for c, sign in [(t, 1) for t in (total if isinstance(total, list) else [total])] + [(p, -1) for p in parts]:
            if c in pos:
                row[pos[c]] += sign
            else:
                rhs -= sign * cells[c]
        if row.any():
            a.append(row)
            b.append(rhs)
    signed = {(si, ri, ci) for si, s in enumerate(report.sections) for ri in range(len(s.rows) + 1)
              for ci, c in enumerate(s.columns) if c.name in s.signed}
    lo = np.array([-1e9 if c in signed else 1 for c in hidden])
    cons = [LinearConstraint(np.array(a), np.array(b), np.array(b))] if a else []
    out = {}
    for c in hidden:
        obj = np.zeros(len(hidden))
        obj[pos[c]] = 1
        ends = []
        for sign in (1, -1):
            r = milp(sign * obj, constraints=cons, integrality=np.ones(len(hidden)),
                     bounds=Bounds(lo, np.full(len(hidden), 1e9)))
            assert r.status == 0, r.message          # the published table is consistent
            ends.append(sign * r.fun)
        if ends[0] == ends[1]:
            out[c] = ends[0]
    return out


def check_published(report: Report, path, rule: sdc.Rule) -> int:
    cells = published(report, path)
    truth = {}
    for si, s in enumerate(report.sections):
        total = s.total_row()
        rows = list(s.rows) + ([total] if total else [])
        for (csi, ri, ci) in cells:
            if csi == si:
                truth[(csi, ri, ci)] = rows[ri][ci]
    for c, v in cells.items():
        if v is not None:
            assert v == truth[c]                                       # published cells are true
            assert not 0 < v < rule.min_count or c[2] in _signed(report, c), (c, v)
        else:
            assert truth[c] != 0                                       # zeros are never withheld
    leaks = exposed(report, cells)
    assert not leaks, {c: (report.sections[c[0]].title, report.sections[c[0]].columns[c[2]].name, v)
                       for c, v in leaks.items()}
    return sum(v is None for v in cells.values())


def _signed(report, c):
    s = report.sections[c[0]]
    return {ci for ci, col in enumerate(s.columns) if col.name in s.signed}


# ------------------------------------------------------------------------------------------------ synthetic

def _random_report(rnd: random.Random) -> Report:
    """A grid-by-category table of small counts with a row total column and a 合计 row, and a community
    table the grid rows roll up into: the shape of the 实有人口 月报, with many small cells."""
    parts = ["户籍", "流动", "境外", "其他"][: rnd.randint(2, 4)]
    comms = [f"社区{i}" for i in range(rnd.randint(1, 3))]
    rows = []
    for gi in range(rnd.randint(2, 9)):
        vals = [rnd.choice([0, 0, 1, 2, 3, 4, 5, 7, 12, 40]) for _ in parts]
        rows.append((rnd.choice(comms), f"网格{gi}", sum(vals), *vals))
    grid = Section("按网格", [Col("社区"), Col("网格"), Col("实有", "count"), *[Col(p, "count") for p in parts]],
                   rows, sums={"实有": tuple(parts)})
    by_comm = {}
    for r in rows:
        by_comm[r[0]] = by_comm.get(r[0], 0) + r[2]
    comm = Section("按社区", [Col("社区"), Col("实有", "count")], sorted(by_comm.items()))
    return Report("x", "随机表", "单位", AS_OF, [grid, comm], links=[("按网格", "社区", "按社区", ("实有",))])


@pytest.mark.parametrize("seed", seeds(40, fast=8))
def test_random_tables_leave_no_withheld_count_derivable(seed, tmp_path):
    from pipelines.reports.render import write_xlsx

    report = _random_report(random.Random(seed))
    report.hidden = sdc.protect(report)
    path = write_xlsx(report, tmp_path / "r.xlsx")
    check_published(report, path, sdc.rule())


def test_the_classic_leaks_are_closed():
    # one small cell beside its exact total; two 1s whose row total says 2; a lone small column total
    grid = Section("t", [Col("k"), Col("总", "count"), Col("a", "count"), Col("b", "count")],
                   [("r1", 50, 48, 2), ("r2", 2, 1, 1), ("r3", 30, 30, 0)], sums={"总": ("a", "b")})
    report = Report("x", "t", "u", AS_OF, [grid])
    hidden = sdc.protect(report)
    t = sdc.table_of(report)
    assert (0, 0, 3) in hidden and (0, 1, 2) in hidden and (0, 1, 3) in hidden
    assert not sdc.derivable(t, hidden)
    assert all(t.values[c] != 0 for c in hidden)


def _changes_report(rnd: random.Random) -> Report:
    """The 人口变动月报's shape: stocks at both ends, changes by kind in between, 期初 + 增加 = 期末 + 减少."""
    rows = []
    for gi in range(rnd.randint(2, 8)):
        ins = [rnd.choice([0, 0, 1, 2, 3, 6, 40]) for _ in range(2)]
        outs = [rnd.choice([0, 0, 0, 1, 2, 4, 9]) for _ in range(2)]
        start = rnd.randint(sum(outs) + 30, 900)
        rows.append((f"网格{gi}", start, sum(ins), *ins, sum(outs), *outs, start + sum(ins) - sum(outs)))
    cols = ["期初", "增加", "迁入", "核实", "减少", "离开", "死亡", "期末"]
    grid = Section("按网格", [Col("网格"), *[Col(c, "count") for c in cols]], rows,
                   sums={"增加": ("迁入", "核实"), "减少": ("离开", "死亡")},
                   balances=[(("期初", "增加"), ("期末", "减少"))], kept=("期初", "期末"))
    return Report("x", "变动", "单位", AS_OF, [grid])


@pytest.mark.parametrize("seed", seeds(20, fast=4))
def test_a_balance_is_protected_and_spares_the_stocks(seed, tmp_path):
    from pipelines.reports.render import write_xlsx

    report = _changes_report(random.Random(seed))
    report.hidden = sdc.protect(report)
    path = write_xlsx(report, tmp_path / "r.xlsx")
    check_published(report, path, sdc.rule())         # knows the balance: nothing withheld can be worked out
    # the stocks are kept: withheld only where the changes cannot close a relation (on these 20 tables: 14 of 232
    # stock cells, never more than 2 in a table), while the changes go whenever that suffices
    stocks = [c for c in report.hidden if c[2] in (1, 8)]
    assert len(stocks) <= 2, stocks
    assert len(report.hidden) > len(stocks)


# ------------------------------------------------------------------------------------------------ the demo

@pytest.fixture(scope="module")
def demo_conn(demo_outputs_home):
    # reports only read the store (the handout record goes to the home's database)
    with Store(demo_outputs_home / "store.duckdb").connect(read_only=True) as conn:
        yield conn


def _built(conn, name, scope):
    prepare(conn, AS_OF)
    narrow(conn, resolve_scope(conn, None, scope))
    report = build(conn, FAMILIES[name], AS_OF, "x", DEFAULT)
    report.hidden = sdc.protect(report)
    return report


@pytest.mark.parametrize("scope", [None, "芳草社区"])
def test_every_demo_report_withholds_small_counts_and_nothing_is_derivable(demo_conn, tmp_path, scope):
    rule = sdc.rule()
    withheld = 0
    for name in FAMILIES:
        paths = render_report(demo_conn, name, out_dir=tmp_path, as_of=AS_OF, home=tmp_path, scope=scope)
        report = _built(demo_conn, name, scope)       # the same tables, for their layout and true values
        withheld += check_published(report, paths[1], rule)
        html = paths[0].read_text(encoding="utf-8")
        assert "&lt;5" not in html and "<5" not in html
        if report.hidden:
            assert html.count('class="num withheld"') == len(report.hidden)
    assert withheld > 0


def test_a_withheld_cell_is_an_empty_number_cell_with_a_marker(demo_conn, tmp_path):
    rule = sdc.rule()
    paths = render_report(demo_conn, "population-monthly", out_dir=tmp_path, as_of=AS_OF, home=tmp_path)
    ws = openpyxl.load_workbook(paths[1]).worksheets[0]
    empty = [c for row in ws.iter_rows(min_row=HEADER_ROW + 1) for c in row
             if c.value is None and c.comment is not None]
    assert empty and all(rule.marker in c.comment.text and c.fill.fill_type == "lightUp" for c in empty)
    # a number column still sums: Excel's SUM over the column skips the empty cells
    assert all(c.data_type == "n" for c in empty)
    html = paths[0].read_text(encoding="utf-8")
    assert f'content: "{rule.marker}"' in html and '<td class="num withheld" title="不公布"></td>' in html


def test_the_same_grid_counts_are_published_alike_in_both_reports(demo_conn, tmp_path):
    # population-monthly and grid-standards both print 登记人口/实有人口/待核实 per grid: a cell one withholds
    # the other must not print, or the first one's 合计 gives the withheld cell away
    for scope in (None, "芳草社区"):
        pm = render_report(demo_conn, "population-monthly", out_dir=tmp_path, as_of=AS_OF, home=tmp_path, scope=scope)
        gs = render_report(demo_conn, "grid-standards", out_dir=tmp_path, as_of=AS_OF, home=tmp_path, scope=scope)
        monthly = _built(demo_conn, "population-monthly", scope)
        standards = _built(demo_conn, "grid-standards", scope)
        a = openpyxl.load_workbook(pm[1]).worksheets[0]
        b = openpyxl.load_workbook(gs[1])["网格人口（登记与实有对照）"]
        grid = monthly.sections[0]
        sec = next(s for s in standards.sections if s.title.startswith("网格人口"))
        rows_a = sheet_rows(a, len(grid.rows) + 1)
        rows_b = sheet_rows(b, len(sec.rows) + 1)
        ha, hb = [c.name for c in grid.columns], [c.name for c in sec.columns]
        by_key_a = {k: r for k, r in zip(grid.keys + ["合计"], rows_a)}
        by_key_b = {k: r for k, r in zip(sec.keys + ["合计"], rows_b)}
        assert set(by_key_a) == set(by_key_b)
        for k in by_key_a:
            for col in ("登记人口", "实有人口", "待核实"):
                assert by_key_a[k][ha.index(col)] == by_key_b[k][hb.index(col)], (scope, k, col)


def _bounded_one_by_one(t, hidden) -> set:
    """The audit's definition without its shortcuts: every withheld cell minimised and maximised on its own."""
    import math

    import numpy as np

    out = set()
    for group, relations in sdc._components(t, hidden):
        program = sdc._Program(*sdc._system(t, hidden, group, relations))
        for i, cell in enumerate(group):
            obj = np.zeros(len(group))
            obj[i] = 1.0
            lo, hi = program.solve(obj), program.solve(-obj)
            if lo is not None and hi is not None and math.floor(hi[i] + 1e-6) - math.ceil(lo[i] - 1e-6) < 1:
                out.add(cell)
    return out


@pytest.mark.parametrize("seed", seeds(30, fast=6))
def test_the_audit_finds_exactly_the_cells_bounding_each_alone_finds(seed):
    """derivable() clears cells by any two solutions a unit apart (random pairs, then pushes of many cells at once)
    and bounds only the rest one by one: it must find the same derivable cells as bounding every cell alone — on
    the 月报's shape before complementary suppression has closed anything (derivable cells present) and after it,
    and on a long column whose withheld cells only its 合计 bounds (what the pushes are for)."""
    rnd = random.Random(seed)
    rule = sdc.rule()
    report = _random_report(rnd)
    t = sdc.table_of(report)
    primary = sdc._primary(t, rule) | t.virtual
    closed = set(primary)
    sdc._complement(t, closed)
    rows = [(f"网格{i}", rnd.choice([1, 2, 3, 4, 9, 30])) for i in range(rnd.randint(20, 60))]
    column = Report("x", "列", "单位", AS_OF, [Section("t", [Col("网格"), Col("人数", "count")], rows)])
    tc = sdc.table_of(column)
    small = sdc._primary(tc, rule)
    found = 0
    for table, hidden in ((t, primary), (t, closed), (tc, small), (tc, small | {(0, len(rows), 1)})):
        if hidden - table.virtual:
            expected = _bounded_one_by_one(table, hidden)
            assert sdc.derivable(table, hidden) == expected
            found += len(expected)
    assert seed != 0 or found, "seed 0 must exercise a derivable cell"
