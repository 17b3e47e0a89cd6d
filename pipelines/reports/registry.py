"""The report families' registry (reports/families.yaml): one entry per family, with its SQL file named after it.

    load_families(path=reports/families.yaml, sql_dir=sql/reports) -> dict[key, Family]   (in the file's order)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.paths import REPORTS_DIR, SQL_DIR

PERIODS = ("month",)


@dataclass(frozen=True)
class ListSpec:
    key: str
    title: str
    extract: str | None             # the extract view it is read through; None: its builder makes it
    where: str = "TRUE"
    columns: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SectionSpec:
    title: str
    table: str
    order: str
    text: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    sums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    signed: tuple[str, ...] = ()
    note: str = ""
    lists: tuple[str, ...] | None = None     # the list files its note names; None: all the family's


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    sql: Path                       # sql/reports/<key with _>.sql
    period: str | None = None
    lists: dict[str, ListSpec] = field(default_factory=dict)
    sections: tuple[SectionSpec, ...] = ()
    links: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    builder: str | None = None
    period_from: bool = False       # the period may start on another day than the 1st (onceonly report --from)

    def period_start(self, as_of: dt.date, start: dt.date | None = None) -> dt.date | None:
        """The period's first day: ``start`` where the family lets it be chosen, else the 1st of D's month."""
        if self.period is None:
            return None
        return start if start is not None and self.period_from else as_of.replace(day=1)

    def variables(self, as_of: dt.date, start: dt.date | None = None) -> dict:
        """What its SQL reads with getvariable(): D, and the period's first day when it covers one."""
        return {"as_of": as_of, **({"period_start": self.period_start(as_of, start)} if self.period else {})}


def _tuple(v) -> tuple | None:
    return None if v is None else tuple(v)


@lru_cache(maxsize=None)
def load_families(path: Path = REPORTS_DIR / "families.yaml", sql_dir: Path = SQL_DIR / "reports") -> dict[str, Family]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out: dict[str, Family] = {}
    for key, raw in doc["families"].items():
        where = f"{Path(path).name} {key}"
        sql = Path(sql_dir) / f"{key.replace('-', '_')}.sql"
        if not sql.is_file():
            raise ValueError(f"{where}: 缺少 SQL 文件 {sql}（报表的 SQL 文件以报表键命名）")
        if raw.get("period") not in (None, *PERIODS):
            raise ValueError(f"{where}: period 只能是 {'、'.join(PERIODS)}")
        if raw.get("period_from") and not raw.get("period"):
            raise ValueError(f"{where}: period_from 需要 period")
        if not raw.get("sections") and not raw.get("builder"):
            raise ValueError(f"{where}: 既无 sections 也无 builder，生成不出任何表格")
        lists = {k: ListSpec(k, v["title"], v.get("extract"), v.get("where", "TRUE"), _tuple(v.get("columns")))
                 for k, v in (raw.get("lists") or {}).items()}
        sections = tuple(
            SectionSpec(s["title"], s["table"], s["order"], tuple(s.get("text", ())), tuple(s.get("money", ())),
                        {k: tuple(v) for k, v in (s.get("sums") or {}).items()}, tuple(s.get("signed", ())),
                        s.get("note", ""), _tuple(s.get("lists")))
            for s in raw.get("sections") or ())
        unknown = [k for s in sections for k in (s.lists or ()) if k not in lists]
        if unknown:
            raise ValueError(f"{where}: sections 引用了未登记的名单 {unknown}")
        links = tuple((x["detail"], x["key"], x["summary"], tuple(x["columns"])) for x in raw.get("links") or ())
        out[key] = Family(key, raw["title"], sql, raw.get("period"), lists, sections, links, raw.get("builder"),
                          bool(raw.get("period_from")))
    return out
