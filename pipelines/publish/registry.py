"""The department registry (reports/departments.yaml) and the extract schemas (reports/extracts.yaml).

Both are data: adding a department or widening a grant is a YAML change reviewed like any other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.errors import UserFacingError
from pipelines.paths import REPORTS_DIR

ID_MODES = ("前6后4", "全文", "隐藏")
PHONE_MODES = ("中间四位", "全文", "隐藏")
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
    kind: str = "text"      # id | phone | text


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
    id_mode: str
    phone_mode: str
    users: tuple[str, ...] | None       # None: anyone of the department


@dataclass(frozen=True)
class Department:
    name: str
    title: str
    level: str
    reports: tuple[str, ...]
    extracts: dict[str, Grant] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    extracts: dict[str, ExtractSpec]
    departments: dict[str, Department]
    default_id_mode: str
    default_phone_mode: str

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
            return Grant(tuple(c.name for c in spec.columns), self.default_id_mode, self.default_phone_mode, None)
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


def _grant(raw: dict, spec: ExtractSpec, dept: dict, defaults: dict, where: str) -> Grant:
    cols = raw.get("columns", "all")
    names = [c.name for c in spec.columns]
    if cols == "all":
        cols = names
    unknown = [c for c in cols if c not in names]
    if unknown:
        raise ValueError(f"{where}: 授权列 {unknown} 不是 {spec.name} 的列")
    masking = {**defaults, **raw.get("masking", {})}
    if masking["id"] not in ID_MODES or masking["phone"] not in PHONE_MODES:
        raise ValueError(f"{where}: 脱敏方式 {masking} 无效")
    users = raw.get("users")
    if users == "stewards":
        users = dept.get("stewards", [])
    return Grant(tuple(n for n in names if n in cols), masking["id"], masking["phone"],
                 tuple(users) if users is not None else None)


@lru_cache(maxsize=None)
def load_registry(directory: Path = REPORTS_DIR) -> Registry:
    xdoc = yaml.safe_load((directory / "extracts.yaml").read_text(encoding="utf-8"))
    extracts = {}
    for name, raw in xdoc["extracts"].items():
        cols = tuple(ExtractColumn(c["name"], c["type"], c.get("desc", ""), c.get("kind", "text"))
                     for c in raw["columns"])
        extracts[name] = ExtractSpec(name, raw["title"], raw["sql"], raw["view"], tuple(raw["order_by"]), cols,
                                     bool(raw.get("grid", False)))
    ddoc = yaml.safe_load((directory / "departments.yaml").read_text(encoding="utf-8"))
    defaults = ddoc["default_masking"]
    departments = {}
    for name, raw in ddoc["departments"].items():
        if raw["level"] not in LEVELS:
            raise ValueError(f"departments.yaml: {name} 的 level {raw['level']!r} 无效")
        grants = {}
        for x, g in (raw.get("extracts") or {}).items():
            if x not in extracts:
                raise ValueError(f"departments.yaml: {name} 授权了不存在的提取 {x}")
            if raw["level"] == "grid" and not extracts[x].grid:
                raise ValueError(f"departments.yaml: {name} 为网格级，但提取 {x} 不按网格划分（extracts.yaml 无 grid: true）")
            grants[x] = _grant(g or {}, extracts[x], raw, defaults, f"departments.yaml {name}/{x}")
        departments[name] = Department(name, raw.get("title", name), raw["level"],
                                       tuple(raw.get("reports", ())), grants)
    return Registry(extracts, departments, defaults["id"], defaults["phone"])
