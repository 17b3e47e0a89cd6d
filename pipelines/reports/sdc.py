"""Statistical disclosure control (统计披露控制): one rule, from one configuration, for every report.

The rule (reports/standards.yaml ``disclosure``):

1. *Primary*: a count of persons from 1 to ``min_count``-1 is not published. Zeros are published (nobody is
   singled out by "nobody"), and so are counts that are not of persons (houses, buildings: ``Col.kind``
   ``number``).
2. *Complementary*: a table's totals are exact, so a hidden cell must not be the difference of published ones.
   Every linear relation a table states — a column and its 合计, a row total and its parts
   (``Section.sums``, e.g. 实有人口 = 户籍 + 流动 + 境外 + 未落户 + 类别不详), a row's balance
   (``Section.balances``, e.g. 期初 + 增加 = 期末 + 减少, stated through a cell never published: their common sum),
   one section rolling up into another (``Report.links``) — is checked: where it leaves a hidden cell alone, the smallest further non-zero part is
   hidden as well (the total only when no part is left). Cells of columns a section keeps (``Section.kept``: stocks
   another report publishes anyway) are hidden only when nothing else would do.
3. *Audit*: then every hidden cell is bounded by linear programming over all the relations of the report, the
   way an analyst with the published table would (hidden counts are at least 1, since zeros are shown): a cell
   whose range holds one whole number is derivable, and another cell of one of its relations is hidden, until
   none is. tests/reports/test_sdc.py checks the result independently, by integer programming over the
   published workbook.

A hidden cell stays empty in the workbook (a number column still sums) and carries the marker as a fill and a
comment; in HTML it is an empty cell the marker is drawn in by CSS. Totals count the hidden persons.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from pipelines.paths import REPORTS_DIR

Cell = tuple[int, int, int]        # (section, row, column); row == len(section.rows) is the 合计 row


@dataclass(frozen=True)
class Rule:
    min_count: int
    marker: str

    @property
    def note(self) -> str:
        return (f"为保护个人信息，小于{self.min_count}的人数不公布，由合计等数字可推算出这类人数的格子也不公布："
                f"这些格子留空（表格中为灰色斜纹并带批注，网页中显示“{self.marker}”），合计仍按实际人数计算。")


@lru_cache(maxsize=1)
def rule() -> Rule:
    doc = yaml.safe_load((REPORTS_DIR / "standards.yaml").read_text(encoding="utf-8"))["disclosure"]
    return Rule(int(doc["min_count"]), str(doc["marker"]))


@dataclass
class Table:
    """The cells of a report as numbers, and the relations among them: ``total = sum(parts)``."""
    values: dict[Cell, float]
    persons: set[Cell]                 # counts of persons: subject to the primary rule, ≥ 1 when hidden
    signed: set[Cell]                  # differences (登记与实有差额): any whole number when hidden
    relations: list[tuple[Cell, list[Cell]]]
    kept: set[Cell] = field(default_factory=set)       # hidden only when nothing else would do
    virtual: set[Cell] = field(default_factory=set)    # the common sums of balances: never published
    # hidden before other cells of a relation: a balance's 合计 cells, which spare a second row (whose stocks, were
    # its change a published 0, would have to go)
    preferred: set[Cell] = field(default_factory=set)


def table_of(report) -> Table:
    values: dict[Cell, float] = {}
    persons: set[Cell] = set()
    signed: set[Cell] = set()
    relations: list[tuple[Cell, list[Cell]]] = []
    kept: set[Cell] = set()
    virtual: set[Cell] = set()
    preferred: set[Cell] = set()
    by_title = {s.title: i for i, s in enumerate(report.sections)}
    for si, s in enumerate(report.sections):
        total = s.total_row()
        rows = list(s.rows) + ([total] if total else [])
        controlled = [ci for ci, c in enumerate(s.columns) if c.kind == "count"]
        for ri, row in enumerate(rows):
            for ci in controlled:
                values[(si, ri, ci)] = float(row[ci] or 0)
                (signed if s.columns[ci].name in s.signed else persons).add((si, ri, ci))
        if total:
            n = len(s.rows)
            relations += [((si, n, ci), [(si, ri, ci) for ri in range(n)]) for ci in controlled]
        index = {c.name: ci for ci, c in enumerate(s.columns)}
        for whole, parts in s.sums.items():
            relations += [((si, ri, index[whole]), [(si, ri, index[p]) for p in parts]) for ri in range(len(rows))]
        kept.update((si, ri, index[c]) for c in getattr(s, "kept", ()) for ri in range(len(rows)))
        for k, (lhs, rhs) in enumerate(getattr(s, "balances", ())):
            for ri, row in enumerate(rows):
                common = (si, ri, -1 - k)       # a column index no published cell has
                values[common] = sum(float(row[index[c]] or 0) for c in lhs)
                signed.add(common)
                virtual.add(common)
                relations += [(common, [(si, ri, index[c]) for c in side]) for side in (lhs, rhs)]
            if total:
                preferred.update((si, len(s.rows), index[c]) for c in (*lhs, *rhs) if c not in getattr(s, "kept", ()))
    for detail, key, summary, columns in getattr(report, "links", ()):
        a, b = report.sections[by_title[detail]], report.sections[by_title[summary]]
        ia, ib = by_title[detail], by_title[summary]
        ka = next(ci for ci, c in enumerate(a.columns) if c.name == key)
        kb = next(ci for ci, c in enumerate(b.columns) if c.name == key)
        for rb, row in enumerate(b.rows):
            members = [ra for ra, r in enumerate(a.rows) if r[ka] == row[kb]]
            for col in columns:
                ca = next(ci for ci, c in enumerate(a.columns) if c.name == col)
                cb = next(ci for ci, c in enumerate(b.columns) if c.name == col)
                relations.append(((ib, rb, cb), [(ia, ra, ca) for ra in members]))
    return Table(values, persons, signed, relations, kept, virtual, preferred)


def _primary(t: Table, r: Rule) -> set[Cell]:
    return {c for c in t.persons if 0 < t.values[c] < r.min_count}


def _hide_one_more(t: Table, hidden: set[Cell], total: Cell, parts: list[Cell], kept_too: bool = True) -> bool:
    """Hide the smallest visible non-zero part of a relation (ties: the first), else its total; a kept cell
    only when nothing else of the relation is left (or never, without ``kept_too``)."""
    for kept in (False, True) if kept_too else (False,):
        options = sorted((c not in t.preferred, abs(t.values[c]), c) for c in (*parts, total)
                         if c not in hidden and t.values[c] != 0 and (c in t.kept) == kept
                         and (c != total or c in t.preferred))
        if options:
            hidden.add(options[0][-1])
            return True
        if total not in hidden and t.values[total] != 0 and (total in t.kept) == kept:
            hidden.add(total)
            return True
    return False


def _complement(t: Table, hidden: set[Cell]) -> None:
    """Until no relation leaves a hidden cell alone, or pins its hidden parts to 1 each."""
    changed = True
    while changed:
        changed = False
        for total, parts in t.relations:
            if total in t.virtual:
                continue        # a balance: both its sides at once, below
            cells = [total, *parts]
            inside = [c for c in cells if c in hidden]
            if not inside:
                continue
            pinned = False
            if total not in hidden and all(c in t.persons for c in inside):
                # the hidden parts sum to what the shown cells leave; all 1 when that equals their number
                rest = t.values[total] - sum(t.values[c] for c in parts if c not in hidden)
                pinned = rest == len(inside)
            if (len(inside) == 1 or pinned) and _hide_one_more(t, hidden, total, parts):
                changed = True
        for common in sorted(t.virtual):
            cells = [c for total, parts in t.relations if total == common for c in parts]
            if sum(c in hidden for c in cells) == 1 and _hide_one_more(t, hidden, common, cells):
                changed = True


def _components(t: Table, hidden: set[Cell]) -> list[tuple[list[Cell], list[tuple[Cell, list[Cell]]]]]:
    """Hidden cells in groups that share relations, each with the relations touching it: bounding each
    group on its own keeps the linear programs small however large the report."""
    parent = {c: c for c in hidden}

    def root(c: Cell) -> Cell:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c
    touching = []
    for total, parts in t.relations:
        inside = [c for c in (total, *parts) if c in hidden]
        if inside:
            touching.append(((total, parts), inside))
            for c in inside[1:]:
                parent[root(c)] = root(inside[0])
    groups: dict[Cell, tuple[list[Cell], list]] = {}
    for c in sorted(hidden):
        groups.setdefault(root(c), ([], []))[0].append(c)
    for relation, inside in touching:
        groups[root(inside[0])][1].append(relation)
    return list(groups.values())


_CAP = 1e9      # a withheld count no relation bounds from above: "any number"


def _system(t: Table, hidden: set[Cell], cells: list[Cell], relations):
    import numpy as np
    from scipy.sparse import lil_matrix

    pos = {c: i for i, c in enumerate(cells)}
    a = lil_matrix((len(relations), len(cells)))
    b = np.zeros(len(relations))
    for k, (total, parts) in enumerate(relations):
        for c, sign in [(total, 1.0)] + [(p, -1.0) for p in parts]:
            if c in hidden:
                a[k, pos[c]] += sign
            else:
                b[k] -= sign * t.values[c]
    lim = [(-_CAP, _CAP) if c in t.signed else (1, _CAP) for c in cells]
    return a.tocsr(), b, lim


@lru_cache(maxsize=1)
def _highs():
    """The HiGHS module, its banner kept out of the command's output: HiGHS prints it to the process's stdout
    (file descriptor 1, below Python's sys.stdout) when the first solver is made, so that one is made with fd 1
    pointed at /dev/null."""
    import os

    import highspy

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    return highspy


class _Program:
    """One group's linear system in a HiGHS solver kept between objectives: a new objective starts from the last
    optimal basis (warm start), about twenty times faster than solving each from scratch at a million persons,
    where a report's groups hold over a thousand withheld cells and each is bounded on its own."""

    def __init__(self, a, b, lim):
        import numpy as np

        highspy = _highs()
        self.h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        self.n = a.shape[1]
        h.addVars(self.n, np.array([lo for lo, _ in lim], dtype=float), np.array([hi for _, hi in lim], dtype=float))
        if a.shape[0]:
            h.addRows(a.shape[0], b, b, a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                      a.data.astype(float))
        self._optimal = highspy.HighsModelStatus.kOptimal
        self.a, self.b, self.lim = a, b, lim

    def push(self, ref, cells, up: bool):
        """A solution moving as many of ``cells`` as it can a whole unit away from ``ref`` (their least values
        seen when ``up``, else their greatest), or None: maximise the sum of u_i <= 1 with u_i <= x_i - ref_i
        (down: u_i <= ref_i - x_i). A cell moved by one is cleared by that solution and the one ``ref`` came from."""
        import numpy as np
        from scipy.sparse import csr_matrix, hstack, vstack

        highspy = _highs()
        n, m = self.n, len(cells)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lo = [x for x, _ in self.lim] + [-highspy.kHighsInf] * m
        hi = [x for _, x in self.lim] + [1.0] * m
        h.addVars(n + m, np.array(lo, dtype=float), np.array(hi, dtype=float))
        sign = -1.0 if up else 1.0
        link = csr_matrix((np.r_[np.full(m, sign), np.ones(m)],
                           (np.r_[np.arange(m), np.arange(m)], np.r_[np.asarray(cells), n + np.arange(m)])),
                          shape=(m, n + m))
        a = vstack([hstack([self.a, csr_matrix((self.a.shape[0], m))]), link]).tocsr()
        upper = np.r_[self.b, sign * np.asarray(ref, dtype=float)[cells]]
        lower = np.r_[self.b, np.full(m, -highspy.kHighsInf)]
        h.addRows(a.shape[0], lower, upper, a.nnz, a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32),
                  a.data.astype(float))
        h.changeColsCost(n + m, np.arange(n + m, dtype=np.int32), np.r_[np.zeros(n), -np.ones(m)])
        h.run()
        if h.getModelStatus() != self._optimal:
            return None
        return np.array(h.getSolution().col_value)[:n]

    def solve(self, obj):
        import numpy as np

        self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.asarray(obj, dtype=float))
        self.h.run()
        if self.h.getModelStatus() != self._optimal:
            return None
        return np.array(self.h.getSolution().col_value)


def derivable(t: Table, hidden: set[Cell]) -> set[Cell]:
    """Hidden cells whose range holds a single whole number. Two feasible solutions in which a cell differs by a
    whole number or more clear it: a random weighting of the still-open cells is minimised and maximised (a sum
    would not do: a row's withheld cells often have a fixed sum), and only the cells such pairs cannot clear are
    bounded one by one. Every solution found is a witness for every cell, not only for the objective it was
    solved for: a cell is cleared as soon as the least and greatest values any solution gave it are a whole
    number apart (at a million persons most cells are cleared by other cells' bounds instead of two solves of
    their own each). The weights are seeded: the same table gives the same answer."""
    import math

    import numpy as np

    out: set[Cell] = set()
    rng = np.random.default_rng(5)
    for group, relations in _components(t, hidden):
        program = _Program(*_system(t, hidden, group, relations))
        n = len(group)
        least, most = np.full(n, np.inf), np.full(n, -np.inf)
        open_ = np.ones(n, dtype=bool)

        def seen(x) -> None:
            np.minimum(least, x, out=least)
            np.maximum(most, x, out=most)
            open_[most - least >= 1 - 1e-6] = False

        # A random pair clears the cells it happens to move; a column's withheld cells bounded by its 合计 alone
        # sit at their least value in both solutions but one, so then as many open cells as can be are moved a
        # unit up from the least value seen, and down from the greatest, in one program each.
        while open_.any():
            before = int(open_.sum())
            obj = np.zeros(n)
            obj[open_] = rng.uniform(0.5, 1.5, before)
            lo, hi = program.solve(obj), program.solve(-obj)
            if lo is None or hi is None:
                break
            seen(lo)
            seen(hi)
            for up in (True, False):
                cells = np.flatnonzero(open_)
                if len(cells):
                    x = program.push(least if up else most, cells, up)
                    if x is not None:
                        seen(x)
            if int(open_.sum()) == before:
                break
        for i in range(n):
            if not open_[i]:
                continue
            obj = np.zeros(n)
            obj[i] = 1.0
            lo, hi = program.solve(obj), program.solve(-obj)
            if lo is None or hi is None:
                continue
            if math.floor(hi[i] + 1e-6) - math.ceil(lo[i] - 1e-6) < 1:
                out.add(group[i])
            seen(lo)
            seen(hi)
    return out


def protect(report, r: Rule | None = None) -> set[Cell]:
    """The cells of ``report`` not to publish under rule ``r`` (default: the configured one)."""
    r = r or rule()
    t = table_of(report)
    hidden = _primary(t, r) | set(getattr(report, "fixed", ())) | t.virtual
    _complement(t, hidden)
    while hidden - t.virtual:
        exposed = derivable(t, hidden) - t.virtual
        if not exposed:
            break
        grew = False
        for c in sorted(exposed):
            own = [(total, parts) for total, parts in t.relations if c == total or c in parts]
            # a balance pins the cell through its other side: open that side first
            common = {x for total, parts in own for x in (total, *parts) if x in t.virtual}
            sides = [(total, parts) for total, parts in t.relations if total in common]
            if any(_hide_one_more(t, hidden, total, parts, kept_too=False) for total, parts in sides + own):
                grew = True
                continue
            # every relation of the cell is withheld whole: it is pinned through relations further out (a
            # second table's total equal to this one's); open one of those
            group = next(cells for cells, _ in _components(t, hidden) if c in cells)
            around = [(total, parts) for total, parts in t.relations if total in group or any(x in group for x in parts)]
            grew |= (any(_hide_one_more(t, hidden, total, parts, kept_too=False) for total, parts in around)
                     or any(_hide_one_more(t, hidden, total, parts) for total, parts in sides + own + around))
        if not grew:        # nothing left to hide: every cell of every relation already is
            break
        _complement(t, hidden)
    return hidden - t.virtual
