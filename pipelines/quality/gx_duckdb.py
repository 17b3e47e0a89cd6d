"""Great Expectations 1.24 on DuckDB: GX defines, DuckDB evaluates.

Why not GX's own SQL engine: it has no DuckDB dialect (no ``add_duckdb`` data source, ``duckdb``
is not among the dialects it keeps one connection open for), so through SQLAlchemy it reads a
cursor after closing its connection and sees empty results; regex expectations are not supported
on that dialect; and on SQL back ends ``unexpected_index_list`` stops at the partial count.
``tests/quality/test_gx_duckdb.py`` fails when an upgrade changes any of that, so the
workaround can be dropped (upstream #10738, #11579, native engine PR #12084).

So: suites are ordinary GX 1.x JSON (``ExpectationSuite``), each supported expectation is
compiled here to one DuckDB predicate or query, counts are computed in DuckDB (one scan per
table for the row predicates), and the outcome is a real ``ExpectationSuiteValidationResult``
that GX renders as Data Docs. The failing rows themselves stay in DuckDB: the caller gets
the SQL that selects them (``unexpected_rows_sql``). Never loads a table into pandas.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    # Imported where used: importing GX takes seconds, which every `onceonly` command and the portal's start
    # would pay for checks they may never run.
    from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult

PARTIAL = 20  # GX's own partial_unexpected_list length

# Expectation types this module evaluates; anything else is reported as an exception result.
PREDICATE_TYPES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
}
QUERY_TYPES = {
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "unexpected_rows_expectation",
}
SUPPORTED_TYPES = PREDICATE_TYPES | QUERY_TYPES


def load_suite(doc: dict) -> ExpectationSuite:
    """A GX suite from its JSON document (the format ``ExpectationSuite.to_json_dict`` writes)."""
    from great_expectations.core import ExpectationSuite

    meta = dict(doc.get("meta") or {})
    meta.pop("great_expectations_version", None)
    return ExpectationSuite(
        name=doc["name"], expectations=doc.get("expectations", []), meta=meta, notes=doc.get("notes")
    )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal; ``{"$PARAMETER": "as_of"}`` (GX suite parameter) reads a DuckDB variable."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        return f"getvariable('{value['$PARAMETER']}')"
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def predicate(kind: str, kw: dict) -> tuple[str, str]:
    """(unexpected-row predicate, domain predicate) for a row-wise expectation.

    GX ignores NULLs for every column-map expectation except the null checks themselves,
    so the domain (the denominator of ``mostly``) is the non-null rows.
    """
    col = quote_ident(kw["column"])
    nonnull = f"{col} IS NOT NULL"
    if kind == "expect_column_values_to_not_be_null":
        return f"{col} IS NULL", "TRUE"
    if kind == "expect_column_values_to_be_null":
        return f"{col} IS NOT NULL", "TRUE"
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        values = ", ".join(literal(v) for v in kw["value_set"]) or "NULL"
        neg = "NOT " if kind == "expect_column_values_to_be_in_set" else ""
        return f"{nonnull} AND {neg}({col} IN ({values}))", nonnull
    if kind == "expect_column_values_to_be_between":
        parts = []
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None:
            parts.append(f"{col} {'<=' if kw.get('strict_min') else '<'} {literal(lo)}")
        if hi is not None:
            parts.append(f"{col} {'>=' if kw.get('strict_max') else '>'} {literal(hi)}")
        return f"{nonnull} AND ({' OR '.join(parts) or 'FALSE'})", nonnull
    if kind == "expect_column_values_to_match_regex":
        # GX semantics are re.search: a match anywhere, so regexp_matches (not full match).
        return f"{nonnull} AND NOT regexp_matches(CAST({col} AS VARCHAR), {literal(kw['regex'])})", nonnull
    if kind == "expect_column_values_to_not_match_regex":
        return f"{nonnull} AND regexp_matches(CAST({col} AS VARCHAR), {literal(kw['regex'])})", nonnull
    raise ValueError(kind)


_TABLE = re.compile(r"\b(raw|staging|core|marts|quality)\.([a-z_][a-z0-9_]*)\b")


def tables_named(sql: str) -> set[str]:
    """The store tables (``schema.name``) an expectation's SQL names."""
    return {f"{a}.{b}" for a, b in _TABLE.findall(sql)}


def unexpected_rows_sql(kind: str, kw: dict, table: str) -> str:
    """SQL selecting every failing row (all columns of the table, or of the custom query)."""
    if kind in PREDICATE_TYPES:
        return f"SELECT * FROM {table} WHERE {predicate(kind, kw)[0]}"
    if kind == "expect_column_values_to_be_unique":
        col = quote_ident(kw["column"])
        return (f"SELECT * FROM {table} WHERE {col} IS NOT NULL "
                f"QUALIFY count(*) OVER (PARTITION BY {col}) > 1")
    if kind == "expect_compound_columns_to_be_unique":
        cols = ", ".join(quote_ident(c) for c in kw["column_list"])
        # GX ignores a row only when all its columns are NULL (ignore_row_if default any_value_is_missing
        # in 1.x); we follow: a row takes part when none of the columns is NULL.
        nn = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in kw["column_list"])
        return f"SELECT * FROM {table} WHERE {nn} QUALIFY count(*) OVER (PARTITION BY {cols}) > 1"
    if kind == "unexpected_rows_expectation":
        return kw["unexpected_rows_query"].replace("{batch}", table)
    raise ValueError(f"unsupported expectation type {kind}")


def count_sql(kind: str, kw: dict, table: str) -> str:
    """Counting the failing rows; for uniqueness a GROUP BY is much cheaper than the row query's window."""
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        cols = kw.get("column_list") or [kw["column"]]
        keys = ", ".join(quote_ident(c) for c in cols)
        nn = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in cols)
        return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {table} WHERE {nn} "
                f"GROUP BY {keys} HAVING count(*) > 1)")
    return f"SELECT count(*) FROM ({unexpected_rows_sql(kind, kw, table)})"


@dataclass
class Outcome:
    """One expectation's result, with what the steward queue needs beyond GX's result."""

    kind: str
    kwargs: dict
    meta: dict
    success: bool
    element_count: int
    unexpected_count: int
    rows_sql: str
    error: str | None = None


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(conn.execute(sql).fetchall()[0][0])


_STRICTEST = ("id", "phone", "name", "address", "other")


@functools.cache
def store_column_classes() -> dict[str, str]:
    """Store column -> class of the source field it holds (reports/extracts.yaml `classes`), with staging's
    derived columns (``id_raw``, ``owner_id_raw``, ``name_raw``); a name used in several templates takes its
    strictest class."""
    from pipelines.publish.registry import load_registry
    from pipelines.sources import load_catalog

    classes = load_registry().classes
    out: dict[str, str] = {}

    def put(column: str, cls: str) -> None:
        old = out.get(column, "other")
        out[column] = min(old, cls, key=_STRICTEST.index)
    for t in load_catalog():
        for f in t.fields:
            cls = classes.get(f.name, "other")
            put(f.column, cls)
            if f.type == "id_number":
                put(f.column[: -len("number")] + "raw", cls)
            if f.type == "name":
                put(f.column + "_raw", cls)
    return out


def _partial(conn: duckdb.DuckDBPyConnection, kind: str, kw: dict, rows_sql: str) -> list:
    """GX's sample of unexpected values (Data Docs show it), masked by the class of each column: the Data Docs
    are an output like any other."""
    from pipelines.publish.masking import mask_value

    if kind not in PREDICATE_TYPES:  # a window or custom query: not worth a second run for a sample
        return []
    cols = kw.get("column_list") or [kw["column"]]
    select = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c in cols)
    rows = conn.execute(f"SELECT {select} FROM ({rows_sql}) LIMIT {PARTIAL}").fetchall()
    classes = store_column_classes()
    rows = [tuple(mask_value(v, classes.get(c, "other")) for c, v in zip(cols, r)) for r in rows]
    return [r[0] if len(r) == 1 else dict(zip(cols, r)) for r in rows]


def evaluate(conn: duckdb.DuckDBPyConnection, suite: ExpectationSuite, table: str) -> tuple[
        ExpectationSuiteValidationResult, list[Outcome]]:
    """Evaluate ``suite`` against ``table`` inside DuckDB."""
    exps = [e.configuration for e in suite.expectations]
    total = table_rows(conn, table)
    outcomes = count_outcomes(conn, exps, table, total)
    return suite_result(conn, suite, table, exps, outcomes, total), outcomes


def table_rows(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return _count(conn, f"SELECT count(*) FROM {table}")


def count_outcomes(conn: duckdb.DuckDBPyConnection, exps: list, table: str, total: int) -> list[Outcome]:
    """Each expectation's counts over ``table`` (``total`` rows)."""
    outcomes: list[Outcome | None] = [None] * len(exps)
    # Row predicates: one scan of the table for all of them.
    preds = [(i, c) for i, c in enumerate(exps) if c.type in PREDICATE_TYPES]
    if preds:
        aggs = []
        for i, c in preds:
            bad, dom = predicate(c.type, c.kwargs)
            aggs.append(f"count(*) FILTER (WHERE {bad})")
            aggs.append(f"count(*) FILTER (WHERE {dom})")
        try:
            counts = conn.execute(f"SELECT {', '.join(aggs)} FROM {table}").fetchall()[0]
        except duckdb.Error:
            counts = None  # fall back to one query per expectation to say which one is wrong
        for j, (i, c) in enumerate(preds):
            if counts is not None:
                bad_n, dom_n = int(counts[2 * j]), int(counts[2 * j + 1])
                outcomes[i] = outcome(c, bad_n, dom_n, unexpected_rows_sql(c.type, c.kwargs, table))
            else:
                outcomes[i] = evaluate_one(conn, c, table, total)
    for i, c in enumerate(exps):
        if outcomes[i] is None:
            outcomes[i] = evaluate_one(conn, c, table, total)
    return outcomes


def suite_result(conn: duckdb.DuckDBPyConnection, suite: ExpectationSuite, table: str, exps: list,
                 outcomes: list[Outcome], total: int) -> ExpectationSuiteValidationResult:
    """GX's validation result of ``suite`` from the outcomes of its expectations ``exps``."""
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult

    results = []
    for c, o in zip(exps, outcomes):
        result: dict[str, Any] = {}
        exception_info = {"raised_exception": False, "exception_message": None, "exception_traceback": None}
        if o.error:
            exception_info = {"raised_exception": True, "exception_message": o.error, "exception_traceback": o.error}
        elif o.kind == "unexpected_rows_expectation":
            result = {"observed_value": o.unexpected_count, "unexpected_index_query": o.rows_sql}
        else:
            result = {
                "element_count": o.element_count,
                "unexpected_count": o.unexpected_count,
                "unexpected_percent": (100.0 * o.unexpected_count / o.element_count) if o.element_count else 0.0,
                "partial_unexpected_list": _partial(conn, o.kind, o.kwargs, o.rows_sql) if o.unexpected_count else [],
                "unexpected_index_query": o.rows_sql,
            }
        results.append(ExpectationValidationResult(
            success=o.success, expectation_config=c, result=result, exception_info=exception_info,
        ))
    n_ok = sum(o.success for o in outcomes)
    statistics = {
        "evaluated_expectations": len(outcomes),
        "successful_expectations": n_ok,
        "unsuccessful_expectations": len(outcomes) - n_ok,
        "success_percent": (100.0 * n_ok / len(outcomes)) if outcomes else 100.0,
    }
    return ExpectationSuiteValidationResult(
        success=all(o.success for o in outcomes), results=results, suite_name=suite.name,
        statistics=statistics,
        meta={"table": table, "row_count": total, "engine": "duckdb (pipelines.quality.gx_duckdb)"},
    )


def outcome(c, bad: int, domain: int, rows_sql: str) -> Outcome:
    mostly = c.kwargs.get("mostly", 1.0) or 1.0
    success = bad == 0 if mostly >= 1 else (domain == 0 or (domain - bad) / domain >= mostly)
    return Outcome(c.type, dict(c.kwargs), dict(c.meta or {}), success, domain, bad, rows_sql)


def evaluate_one(conn: duckdb.DuckDBPyConnection, c, table: str, total: int) -> Outcome:
    try:
        if c.type not in SUPPORTED_TYPES:
            raise ValueError(f"期望类型 {c.type} 不受 DuckDB 评估支持")
        rows_sql = unexpected_rows_sql(c.type, c.kwargs, table)
        if c.type in PREDICATE_TYPES:
            bad, dom = predicate(c.type, c.kwargs)
            n_bad, n_dom = conn.execute(
                f"SELECT count(*) FILTER (WHERE {bad}), count(*) FILTER (WHERE {dom}) FROM {table}").fetchall()[0]
            return outcome(c, int(n_bad), int(n_dom), rows_sql)
        n_bad = _count(conn, count_sql(c.type, c.kwargs, table))
        return outcome(c, n_bad, total, rows_sql)
    except (duckdb.Error, ValueError, KeyError) as exc:
        return Outcome(c.type, dict(c.kwargs), dict(c.meta or {}), False, total, 0, "", error=str(exc))


def render_html(result: ExpectationSuiteValidationResult) -> str:
    """One Data Docs validation page, rendered by GX's own renderer and Jinja view."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    return _page_view().render(ValidationResultsPageRenderer().render(result))


@functools.cache
def _page_view():
    # One view for every page: each view is its own Jinja environment, which compiles the templates anew,
    # and compiling them would be most of the time the pages take.
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()
