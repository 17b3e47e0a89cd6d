"""The source templates of the contract, loaded from ``sources/*.yaml``.

Templates are configuration, not code: a new header alias or code spelling is a
one-line change in the YAML. This module only reads and checks that YAML.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.paths import SOURCES_DIR

FIELD_TYPES = {"text", "name", "code", "id_number", "date", "phone", "value", "tags", "integer", "decimal"}

# Contract order; also the order sources are loaded and reported in.
TEMPLATE_ORDER = (
    "grids", "housing", "residents", "visits", "hukou", "floating", "assistance", "deaths", "disability",
)


def normalize_header(text: str) -> str:
    """Fold a header cell for matching: full-width to half-width (NFKC), no white space at all."""
    folded = unicodedata.normalize("NFKC", str(text))
    return "".join(folded.split())


@dataclass(frozen=True)
class Field:
    name: str                      # the contract's Chinese 字段 name, e.g. 公民身份号码
    column: str                    # the store's column name, e.g. id_number
    type: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: str | None = None      # name of a value list in _types.yaml (type value/tags)
    not_future: bool = False       # a date that cannot lie after the day it was loaded
    max_length: int = 200          # longest cell, in characters (_types.yaml max_length, or the field's own)

    def header_keys(self) -> set[str]:
        return {normalize_header(h) for h in (self.name, *self.aliases)}


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    owner: str
    fields: tuple[Field, ...]

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    @property
    def required(self) -> list[Field]:
        return [f for f in self.fields if f.required]

    def field(self, column: str) -> Field:
        for f in self.fields:
            if f.column == column:
                return f
        raise KeyError(column)

    def header_index(self) -> dict[str, Field]:
        """Normalised header text -> field."""
        index: dict[str, Field] = {}
        for f in self.fields:
            for key in f.header_keys():
                index[key] = f
        return index


@dataclass(frozen=True)
class Catalog:
    templates: dict[str, Template]
    value_lists: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Template:
        return self.templates[name]

    def __iter__(self):
        return iter(self.templates.values())

    def canonical_values(self, list_name: str) -> list[str]:
        return list(self.value_lists[list_name])

    def spellings(self, list_name: str) -> dict[str, str]:
        """Folded spelling -> canonical value, for one value list."""
        out: dict[str, str] = {}
        for canonical, spellings in self.value_lists[list_name].items():
            for s in (canonical, *spellings):
                out[normalize_header(s)] = canonical
        return out


def _load_template(path: Path, value_lists: dict, max_length: dict[str, int]) -> Template:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = []
    for raw in doc["fields"]:
        f = Field(
            name=raw["name"],
            column=raw["column"],
            type=raw.get("type", "text"),
            required=bool(raw.get("required", False)),
            aliases=tuple(raw.get("aliases", ())),
            values=raw.get("values"),
            not_future=bool(raw.get("not_future", False)),
            max_length=int(raw.get("max_length") or max_length.get(raw.get("type", "text"), 200)),
        )
        if f.type not in FIELD_TYPES:
            raise ValueError(f"{path.name}: 字段 {f.name} 的类型 {f.type!r} 未定义")
        if f.type in ("value", "tags") and f.values not in value_lists:
            raise ValueError(f"{path.name}: 字段 {f.name} 引用了未定义的取值列表 {f.values!r}")
        fields.append(f)
    template = Template(name=doc["template"], title=doc["title"], owner=doc.get("owner", ""), fields=tuple(fields))
    seen: dict[str, str] = {}
    for f in template.fields:
        for key in f.header_keys():
            if key in seen and seen[key] != f.column:
                raise ValueError(f"{path.name}: 表头别名 {key!r} 同时指向 {seen[key]} 和 {f.column}")
            seen[key] = f.column
    return template


@lru_cache(maxsize=None)
def load_catalog(directory: Path = SOURCES_DIR) -> Catalog:
    types = yaml.safe_load((directory / "_types.yaml").read_text(encoding="utf-8"))
    value_lists = {
        name: {canonical: tuple(str(s) for s in spellings) for canonical, spellings in values.items()}
        for name, values in types["value_lists"].items()
    }
    templates = {}
    for name in TEMPLATE_ORDER:
        templates[name] = _load_template(directory / f"{name}.yaml", value_lists, types.get("max_length", {}))
    return Catalog(templates=templates, value_lists=value_lists)
