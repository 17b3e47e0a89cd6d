"""Corrections survive rebuilds: staging reads raw through an overlay of the stewards' fixes.

``quality.corrections`` is append-only. The standing decision for an issue is its newest
correction unless that is a revert (view ``quality.active_corrections``). A fix applies to the
row it was made on and to the same record (记录编号; 房屋编码 for housing, 微网格编码 for grids)
in any other batch that still carries the old wrong value, so a fresh export of the platform
that was never fixed does not undo it.

How staging uses it (every rebuild):
  1. ``apply_corrections_sql(conn)`` (re)creates, per template, the views
     ``quality.fixes_<template>`` (batch_id, row_no, column_name, new_value, correction_id) and
     ``quality.corrected_<template>`` (exactly the columns of ``raw.<template>``, fixed cells
     replaced, plus ``corrected_columns VARCHAR[]``), and ``quality.effective_row_errors``
     (``raw.row_errors`` minus errors on cells that were fixed).
  2. ``sql/staging/_template.sql`` reads ``quality.corrected_<template>`` instead of
     ``raw.<template>``, and decides rejection with ``quality.effective_row_errors``
     (a row is rejected when it has a ``reject`` error there), so a fixed date re-admits the row.
The views are plain SQL over the store (no TEMP macros), rendered from ``sources/*.yaml`` on every
call, so a template's new field is overlaid without a generated file to fall out of date.
"""
from __future__ import annotations

import duckdb

from pipelines.sources import TEMPLATE_ORDER, Catalog, Template, load_catalog
from pipelines.store import table_exists

# The column that identifies a record across batches of one template.
RECORD_IDENTITY = {"grids": "microgrid_code", "housing": "house_code"}


def record_identity(template: str) -> str:
    return RECORD_IDENTITY.get(template, "record_no")


def overlay_sql(t: Template) -> str:
    cols = [c for c in t.columns]
    case_old = "CASE c.field " + " ".join(f"WHEN '{c}' THEN r.{c}" for c in cols) + " END"
    replace = ",\n    ".join(
        f"CASE WHEN list_contains(f.cols, '{c}') THEN f.m['{c}'] ELSE r.{c} END AS {c}" for c in cols)
    ident = record_identity(t.name)
    return f"""-- Staging reads quality.corrected_{t.name} instead of raw.{t.name} (see pipelines/quality/corrections.py).
CREATE OR REPLACE VIEW quality.fixes_{t.name} AS
WITH c AS (SELECT * FROM quality.active_corrections WHERE action = 'fix' AND template = '{t.name}'),
hits AS (
    SELECT r.batch_id, r.row_no, c.field, c.new_value, c."at" AS at_, c.correction_id
    FROM raw.{t.name} r JOIN c ON c.batch_id = r.batch_id AND c.row_no = r.row_no
    UNION ALL
    -- the same record in another batch that still carries the old wrong value
    SELECT r.batch_id, r.row_no, c.field, c.new_value, c."at" AS at_, c.correction_id
    FROM raw.{t.name} r JOIN c ON c.record_key = r.{ident}
    WHERE NOT (r.batch_id = c.batch_id AND r.row_no = c.row_no)
      AND c.old_value IS NOT DISTINCT FROM ({case_old})
)
SELECT batch_id, row_no, field AS column_name, arg_max(new_value, at_) AS new_value,
       arg_max(correction_id, at_) AS correction_id
FROM hits GROUP BY ALL;

CREATE OR REPLACE VIEW quality.corrected_{t.name} AS
SELECT r.* REPLACE (
    {replace}
), coalesce(f.cols, []::VARCHAR[]) AS corrected_columns
FROM raw.{t.name} r LEFT JOIN (
    SELECT batch_id, row_no, map_from_entries(list({{'k': column_name, 'v': new_value}})) AS m,
           list(column_name) AS cols
    FROM quality.fixes_{t.name} GROUP BY ALL
) f ON f.batch_id = r.batch_id AND f.row_no = r.row_no;
"""


def effective_errors_sql() -> str:
    union = "\n    UNION ALL ".join(
        f"SELECT '{t}' AS template, batch_id, row_no, column_name FROM quality.fixes_{t}" for t in TEMPLATE_ORDER)
    return f"""-- raw.row_errors without the errors on cells a steward fixed: what staging rejects on.
CREATE OR REPLACE VIEW quality.effective_row_errors AS
SELECT e.* FROM raw.row_errors e
WHERE NOT EXISTS (
    SELECT 1 FROM (
    {union}
    ) f WHERE f.template = e.template AND f.batch_id = e.batch_id AND f.row_no = e.row_no
          AND f.column_name = e.column_name
);
"""


def apply_corrections_sql(conn: duckdb.DuckDBPyConnection, catalog: Catalog | None = None) -> None:
    """(Re)create the overlay views; staging calls this before it reads raw (cheap: views only)."""
    from pipelines.quality.validate import ensure_schema

    ensure_schema(conn)
    catalog = catalog or load_catalog()
    for t in catalog:
        if table_exists(conn, f"raw.{t.name}"):
            conn.execute(overlay_sql(t))
        else:
            conn.execute(f"CREATE OR REPLACE VIEW quality.fixes_{t.name} AS SELECT NULL::VARCHAR AS batch_id, "
                         "NULL::INTEGER AS row_no, NULL::VARCHAR AS column_name, NULL::VARCHAR AS new_value, "
                         "NULL::VARCHAR AS correction_id WHERE false")
    if table_exists(conn, "raw.row_errors"):
        conn.execute(effective_errors_sql())

