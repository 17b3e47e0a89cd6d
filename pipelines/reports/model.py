"""What a report is, independent of its file format: titled sections of rows with typed columns."""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field

SUPPRESSED = "<5"


@dataclass(frozen=True)
class Col:
    name: str
    kind: str = "text"      # text | count | money | date | number (a measure: right-aligned, never summed)


@dataclass
class Section:
    title: str
    columns: list[Col]
    rows: list[tuple]
    totals: bool = True     # a 合计 row: sums of count/money columns (lists: the number of rows)
    note: str = ""
    chart: object = None    # pipelines.reports.chart.Chart, drawn below the table (SVG in HTML, PNG in XLSX)

    def total_row(self) -> tuple | None:
        if not self.totals:
            return None
        out: list = []
        summable = any(c.kind in ("count", "money") for c in self.columns)
        for i, c in enumerate(self.columns):
            if i == 0:
                out.append("合计" if summable else f"合计：{len(self.rows)} 条")
            elif c.kind == "count":
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
    publication: bool = False       # small counts suppressed
    quality: list[str] = field(default_factory=list)
    small_count: int = 5
    lists: list[ListFile] = field(default_factory=list)

    @property
    def as_of_cn(self) -> str:
        return f"{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日"

    @property
    def period_cn(self) -> str:
        if not self.period_start:
            return ""
        s = self.period_start
        return f"{s.year}年{s.month}月{s.day}日—{self.as_of_cn}"

    def shown(self, value, col: Col):
        """The value as published: counts 1..threshold-1 become "<5" in publication reports."""
        if self.publication and col.kind == "count" and isinstance(value, int) and 0 < value < self.small_count:
            return SUPPRESSED
        return value
