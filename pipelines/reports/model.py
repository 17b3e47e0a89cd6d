"""What a report is, independent of its file format: titled sections of rows with typed columns."""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Col:
    name: str
    # text | count (of persons: disclosure-controlled, pipelines/reports/sdc.py) | number (of houses,
    # buildings, tasks: published as is) | measure (a median, days: right-aligned, never summed) | money | date
    kind: str = "text"


NUMERIC = ("count", "number", "money", "measure")   # right-aligned; all but measure are summed in 合计

# 计量单位 of a numeric column: by its kind, or by its name where the kind does not say it
UNIT_BY_KIND = {"count": "人", "number": "个", "money": "元", "measure": "天"}
UNIT_BY_NAME = {"记录数": "条", "户数": "户", "有人居住户数": "户", "楼栋数": "栋", "房屋数": "套",
                "待办走访核查": "项", "其中逾期": "项", "本期办结": "项", "累计办结": "项", "待公安核查注销": "项"}
# the block a form is signed off with before it is sent up (every report sheet and page ends with it)
SIGN_OFF = "单位负责人：＿＿＿＿＿＿　　填表人：＿＿＿＿＿＿　　联系电话：＿＿＿＿＿＿＿＿　　报出日期：＿＿＿＿年＿＿月＿＿日"


def units_text(columns: list[Col]) -> str:
    """单位：人 — or, when columns count different things, the main unit with the others named:
    单位：人（户数、有人居住户数：户；月救助金额：元）. Empty for a table without numbers."""
    units: dict[str, list[str]] = {}
    for c in columns:
        if c.kind in NUMERIC:
            units.setdefault(UNIT_BY_NAME.get(c.name, UNIT_BY_KIND[c.kind]), []).append(c.name)
    if not units:
        return ""
    main = max(units, key=lambda u: len(units[u]))      # ties: the first seen
    rest = "；".join(f"{'、'.join(names)}：{u}" for u, names in units.items() if u != main)
    return f"单位：{main}" + (f"（{rest}）" if rest else "")


@dataclass
class Section:
    title: str
    columns: list[Col]
    rows: list[tuple]
    totals: bool = True     # a 合计 row: sums of count/money columns (lists: the number of rows)
    note: str = ""
    # row totals the table states: column -> the columns it is the sum of (SDC protects the relation)
    sums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    signed: tuple[str, ...] = ()    # differences that may be negative (登记与实有差额)
    # row balances the table states besides sums: (left columns, right columns) with equal sums
    # (期初 + 增加 = 期末 + 减少); SDC protects them like sums
    balances: list[tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    kept: tuple[str, ...] = ()      # counts published elsewhere anyway (stocks): withheld only when nothing else does
    keys: list = field(default_factory=list)    # each row's grid (else community) code, where it has one
    chart: object = None    # pipelines.reports.chart.Chart, drawn below the table (SVG in HTML, PNG in XLSX)

    @property
    def units(self) -> str:
        return units_text(self.columns)

    def total_row(self) -> tuple | None:
        if not self.totals:
            return None
        out: list = []
        summable = any(c.kind in NUMERIC for c in self.columns)
        for i, c in enumerate(self.columns):
            if i == 0:
                out.append("合计" if summable else f"合计：{len(self.rows)} 条")
            elif c.kind in ("count", "number"):
                out.append(sum(int(r[i] or 0) for r in self.rows))
            elif c.kind == "money":
                out.append(sum((decimal.Decimal(str(r[i])) for r in self.rows if r[i] is not None),
                               decimal.Decimal("0.00")))
            else:
                out.append(None)
        return tuple(out)


@dataclass
class ListFile:
    """A person-level list too long for a formatted report: written beside it as CSV (UTF-8 with BOM),
    already masked; the report itself carries the counts and names the file."""
    key: str                # file suffix: <report>-<key>.csv
    title: str
    table: object           # pyarrow.Table

    @property
    def rows(self) -> int:
        return self.table.num_rows


@dataclass
class Report:
    key: str                        # e.g. population-monthly
    title: str
    unit: str                       # 填报单位
    as_of: dt.date
    sections: list[Section]
    period_start: dt.date | None = None
    quality: list[str] = field(default_factory=list)
    lists: list[ListFile] = field(default_factory=list)
    # (detail section, key column, summary section, columns): the summary's rows are the detail's rows
    # summed by the key (a community row over its grids), so SDC treats them as one table
    links: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)
    # cells another report withholds that this one prints too: withheld here as well (grid-standards takes
    # the per-grid counts' pattern of population-monthly)
    fixed: set[tuple[int, int, int]] = field(default_factory=set)
    # cells withheld by disclosure control (section, row, column), set by render_report
    hidden: set[tuple[int, int, int]] = field(default_factory=set)
    # the run report the quality note points to (a file name beside the report), when there is one
    run_report: str | None = None

    @property
    def as_of_cn(self) -> str:
        return f"{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日"

    @property
    def period_cn(self) -> str:
        if not self.period_start:
            return ""
        s = self.period_start
        return f"{s.year}年{s.month}月{s.day}日—{self.as_of_cn}"

    def published(self, si: int) -> tuple[list[list], list | None]:
        """Section ``si``'s rows and 合计 as published: withheld cells are None (numeric-empty)."""
        sec = self.sections[si]
        total = sec.total_row()
        rows = [list(r) for r in sec.rows] + ([list(total)] if total else [])
        for s, r, c in self.hidden:
            if s == si:
                rows[r][c] = None
        return (rows[:-1], rows[-1]) if total else (rows, None)

    def withheld(self, si: int) -> set[tuple[int, int]]:
        return {(r, c) for s, r, c in self.hidden if s == si}
