"""The department registry (reports/departments.yaml), the extract schemas and the classes of every output
column (reports/extracts.yaml).

All of it is data: adding a department or widening a grant is a YAML change reviewed like any other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.errors import UserFacingError
from pipelines.paths import REPORTS_DIR
from pipelines.publish.masking import CLASSES, Masking

LEVELS = ("grid", "community", "street")


class PublishError(UserFacingError):
    """A request the store will not or cannot answer; ``str(exc)`` is the Chinese message the CLI prints."""


class GrantRefused(PublishError):
    """A request outside a department's grant. ``str(exc)`` is the Chinese message the CLI prints."""


@dataclass(frozen=True)
class ExtractColumn:
    name: str
    type: str
    desc: str
    kind: str = "other"     # its class: id | phone | name | address | other (extracts.yaml `classes`)


@dataclass(frozen=True)
class ExtractSpec:
    name: str
    title: str
    sql: str
    view: str
    order_by: tuple[str, ...]
    columns: tuple[ExtractColumn, ...]
    grid: bool = False      # rows can be limited to one grid (the view carries _grid_code)

    def column(self, name: str) -> ExtractColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Grant:
    columns: tuple[str, ...]            # in the extract's order
    masking: Masking
    users: tuple[str, ...] | None       # None: anyone of the department


@dataclass(frozen=True)
class Department:
    name: str
    title: str
    level: str
    reports: tuple[str, ...]
    extracts: dict[str, Grant] = field(default_factory=dict)
    masking: Masking = Masking()                 # its reports and person lists, and its steward queue
    queue: dict[str, Masking] = field(default_factory=dict)   # user -> wider masking in the steward queue


@dataclass(frozen=True)
class Registry:
    extracts: dict[str, ExtractSpec]
    departments: dict[str, Department]
    default_masking: Masking
    classes: dict[str, str]             # Chinese column name -> class

    def column_class(self, name: str) -> str:
        """The class of an output column; a column nobody classified is an error, not 'other'."""
        try:
            return self.classes[name]
        except KeyError:
            raise KeyError(f"列“{name}”没有分类：请在 reports/extracts.yaml 的 classes 中登记") from None

    def report_masking(self, dept: str | None) -> Masking:
        """How ``dept``'s reports and person lists show values (no department: the store operator, defaults)."""
        return self.default_masking if dept is None else self.department(dept).masking

    def queue_masking(self, dept: str | None, user: str) -> Masking:
        """How the steward queue (pages, workbook, messages) shows values to ``user`` of ``dept``."""
        if dept is None:
            return self.default_masking
        d = self.department(dept)
        return d.queue.get(user, d.queue.get("*", d.masking))

    def department(self, name: str) -> Department:
        try:
            return self.departments[name]
        except KeyError:
            known = "、".join(self.departments)
            raise GrantRefused(f"部门“{name}”不在部门登记表中（已登记：{known}）。") from None

    def extract(self, name: str) -> ExtractSpec:
        try:
            return self.extracts[name]
        except KeyError:
            known = "、".join(self.extracts)
            raise GrantRefused(f"没有名为“{name}”的数据提取（可用：{known}）。") from None

    def grant(self, dept: str | None, extract: str, user: str) -> Grant:
        """The grant that governs ``dept`` asking for ``extract``; raises :class:`GrantRefused` otherwise.

        ``dept=None`` is the store's own operator (the street office's data team running the contract
        commands): every column, default masking, whole store.
        """
        spec = self.extract(extract)
        if dept is None:
            return Grant(tuple(c.name for c in spec.columns), self.default_masking, None)
        d = self.department(dept)
        grant = d.extracts.get(extract)
        if grant is None:
            allowed = "、".join(d.extracts) or "无"
            raise GrantRefused(
                f"{d.name}（{d.title}）无权获取“{spec.title}”（{extract}）。该部门可获取的数据：{allowed}。"
                "如确因职责需要，请按数据共享程序申请授权。")
        if grant.users is not None and user not in grant.users:
            raise GrantRefused(
                f"“{spec.title}”（{extract}）仅限{d.name}数据专员使用，用户“{user}”不在名单中。")
        return grant


def _users(raw: dict, dept: dict) -> tuple[str, ...] | None:
    users = raw.get("users")
    if users == "stewards":
        users = dept.get("stewards", [])
    return tuple(users) if users is not None else None


def _grant(raw: dict, spec: ExtractSpec, dept: dict, defaults: Masking, where: str) -> Grant:
    cols = raw.get("columns", "all")
    names = [c.name for c in spec.columns]
    if cols == "all":
        cols = names
    unknown = [c for c in cols if c not in names]
    if unknown:
        raise ValueError(f"{where}: 授权列 {unknown} 不是 {spec.name} 的列")
    try:
        masking = Masking.of(raw.get("masking"), defaults)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return Grant(tuple(n for n in names if n in cols), masking, _users(raw, dept))


def load_classes(doc: dict) -> dict[str, str]:
    classes: dict[str, str] = {}
    for cls, names in (doc.get("classes") or {}).items():
        if cls not in CLASSES:
            raise ValueError(f"extracts.yaml classes: 未知类别 {cls!r}（可用：{'、'.join(CLASSES)}）")
        for n in names:
            if n in classes:
                raise ValueError(f"extracts.yaml classes: 列“{n}”同时登记为 {classes[n]} 和 {cls}")
            classes[n] = cls
    return classes


@lru_cache(maxsize=None)
def load_registry(directory: Path = REPORTS_DIR) -> Registry:
    xdoc = yaml.safe_load((directory / "extracts.yaml").read_text(encoding="utf-8"))
    classes = load_classes(xdoc)
    extracts = {}
    for name, raw in xdoc["extracts"].items():
        missing = [c["name"] for c in raw["columns"] if c["name"] not in classes]
        if missing:
            raise ValueError(f"extracts.yaml {name}: 列 {missing} 没有分类（classes）")
        cols = tuple(ExtractColumn(c["name"], c["type"], c.get("desc", ""), classes[c["name"]])
                     for c in raw["columns"])
        extracts[name] = ExtractSpec(name, raw["title"], raw["sql"], raw["view"], tuple(raw["order_by"]), cols,
                                     bool(raw.get("grid", False)))
    ddoc = yaml.safe_load((directory / "departments.yaml").read_text(encoding="utf-8"))
    defaults = Masking.of(ddoc.get("default_masking"))
    departments = {}
    for name, raw in ddoc["departments"].items():
        if raw["level"] not in LEVELS:
            raise ValueError(f"departments.yaml: {name} 的 level {raw['level']!r} 无效")
        grants = {}
        try:
            masking = Masking.of(raw.get("masking"), defaults)
            queue = {u: Masking.of(q.get("masking"), masking)
                     for q in ([raw["queue"]] if isinstance(raw.get("queue"), dict) else raw.get("queue") or [])
                     for u in (_users(q, raw) or ("*",))}
        except ValueError as exc:
            raise ValueError(f"departments.yaml {name}: {exc}") from None
        for x, g in (raw.get("extracts") or {}).items():
            if x not in extracts:
                raise ValueError(f"departments.yaml: {name} 授权了不存在的提取 {x}")
            if raw["level"] == "grid" and not extracts[x].grid:
                raise ValueError(f"departments.yaml: {name} 为网格级，但提取 {x} 不按网格划分（extracts.yaml 无 grid: true）")
            grants[x] = _grant(g or {}, extracts[x], raw, masking, f"departments.yaml {name}/{x}")
        departments[name] = Department(name, raw.get("title", name), raw["level"],
                                       tuple(raw.get("reports", ())), grants, masking, queue)
    return Registry(extracts, departments, defaults, classes)
