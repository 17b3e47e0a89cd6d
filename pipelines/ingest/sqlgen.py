"""SQL generated from the catalog: jinja2 templates under ``sql/`` rendered with the templates of
``sources/*.yaml``, so a new field, alias or value spelling needs no code change.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import jinja2

from pipelines.paths import SQL_DIR
from pipelines.sources import Catalog


def sql_literal(value: object) -> str:
    """A value as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def value_map(catalog: Catalog, list_name: str) -> str:
    """A DuckDB MAP literal: folded spelling (see value_key()) -> canonical value."""
    pairs = ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in catalog.spellings(list_name).items())
    return "MAP {" + pairs + "}"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SQL_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = sql_literal
    return env


# The one staging SQL, rendered per template (its columns come from sources/<template>.yaml).
STAGING_SQL = "staging/_template.sql"


def render(relative: str, catalog: Catalog, **context: object) -> str:
    """Render ``sql/<relative>`` with the catalog (and ``value_map(list_name)``) in scope."""
    return render_sql(relative, catalog=catalog, value_map=lambda name: value_map(catalog, name), **context)


def render_sql(relative: str, **context: object) -> str:
    """Render the jinja2 template ``sql/<relative>`` with ``context`` alone."""
    return _environment().get_template(relative).render(**context)


def masked_sql(expr: str, field_name: str) -> str:
    """``expr`` (a cell of field ``field_name``) as a message may quote it: masked by the field's class
    (reports/extracts.yaml `classes`) with the default masking, so a row error never carries a whole ID."""
    from pipelines.publish.masking import DEFAULT, column_sql
    from pipelines.publish.registry import load_registry

    return column_sql(expr, load_registry().classes.get(field_name, "other"), DEFAULT)


def catalog_hash(catalog: Catalog) -> str:
    """Changes whenever any template, alias or value list changes (raw.batches.config_hash)."""
    return hashlib.sha256(repr(catalog).encode("utf-8")).hexdigest()
