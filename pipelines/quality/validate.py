"""Run the expectation suites against the store, inside DuckDB: the hand-written suites of ``expectations/``
and one per template rendered from ``sources/*.yaml`` (pipelines/quality/suites.py).

Results go to ``quality.validation_results`` and failing rows to ``quality.expectation_failures``
(set-based INSERT ... SELECT: the failing rows never leave DuckDB). Optionally renders GX
Data Docs (static HTML) for each suite plus a Chinese index page.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.paths import EXPECTATIONS_DIR
from pipelines.sources import load_catalog
from pipelines.store import Store, insert_rows
from pipelines.quality import batches, gx_duckdb
from pipelines.quality.suites import staging_suite
from pipelines.quality.gx_duckdb import literal, quote_ident

STRUCTURAL = "structural"

# What the steward queue needs from a failing row; each may be set per expectation or per suite
# in ``meta`` (an SQL expression over the failing row), else taken from a same-named column.
LOCATORS = ("template", "batch_id", "row_no", "record_no", "row_key", "value",
            "house_code", "microgrid_code", "person_key")


@dataclass
class SuiteResult:
    suite: str
    table: str
    success: bool | None            # None: table absent, suite skipped
    blocking: list[str] = field(default_factory=list)   # rules of failed structural expectations
    n_expectations: int = 0
    n_failed: int = 0
    failing_rows: int = 0
    outcomes: list[gx_duckdb.Outcome] = field(default_factory=list)
    gx_result: Any = None           # great_expectations ExpectationSuiteValidationResult
    docs_page: Path | None = None
    seconds: float = 0.0
    built: str = "full"             # 'delta': counted only the batches new since the last validation

    @property
    def skipped(self) -> bool:
        return self.success is None


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS quality")
    Store.run_sql(conn, "quality/schema.sql")


def suite_docs(suites_dir: Path = EXPECTATIONS_DIR) -> dict[str, dict]:
    """Every suite by name: the hand-written ones of ``suites_dir`` (GX's JSON) and one per template, rendered
    from ``sources/*.yaml`` on each call (pipelines/quality/suites.py), so it cannot lag its template."""
    docs = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in Path(suites_dir).glob("*.json")}
    catalog = load_catalog()
    docs |= {f"staging_{t.name}": staging_suite(t, catalog) for t in catalog}
    return dict(sorted(docs.items()))


def tables_read(suite_name: str, suites_dir: Path = EXPECTATIONS_DIR) -> set[str]:
    """The store tables a suite reads: its own, and those its expectations' SQL names."""
    doc = suite_docs(suites_dir)[suite_name]
    found = {doc["meta"]["table"]}
    for e in doc["expectations"]:
        found |= gx_duckdb.tables_named(json.dumps(e["kwargs"], ensure_ascii=False))
    return found


def _locator_sql(name: str, exp_meta: dict, suite_meta: dict, kwargs: dict, cols: set[str]) -> str:
    expr = exp_meta.get(name) or suite_meta.get(name)
    if name == "template":  # in meta a template is a name, not an expression
        return "template" if "template" in cols else literal(expr)
    if name == "value" and expr is None:
        expr = kwargs.get("column") or exp_meta.get("column")
    if expr is None:
        expr = name
    if expr.isidentifier() and expr not in cols:
        return "NULL"
    return quote_ident(expr) if expr.isidentifier() else f"({expr})"


def _store_failures(conn, suite, table: str, run_at: dt.datetime, o: gx_duckdb.Outcome) -> None:
    cols = {d[0] for d in conn.execute(f"SELECT * FROM ({o.rows_sql}) LIMIT 0").description}
    m, sm = o.meta, suite.meta
    loc = {n: _locator_sql(n, m, sm, o.kwargs, cols) for n in LOCATORS}
    column = o.kwargs.get("column") or m.get("column")
    conn.execute(f"""
        INSERT INTO quality.expectation_failures
        SELECT ?, ?, ?, ?, ?, ?, ?, ?,
               CAST({loc['template']} AS VARCHAR), CAST({loc['batch_id']} AS VARCHAR),
               CAST({loc['row_no']} AS INTEGER), CAST({loc['record_no']} AS VARCHAR),
               CAST({loc['row_key']} AS VARCHAR), CAST({loc['value']} AS VARCHAR),
               CAST({loc['house_code']} AS VARCHAR), CAST({loc['microgrid_code']} AS VARCHAR),
               CAST({loc['person_key']} AS VARCHAR)
        FROM ({o.rows_sql}) AS t""",
        [run_at, suite.name, table, m.get("rule"), m.get("level"), column, m.get("field"),
         m.get("description_zh")])


def validate(conn_or_store: duckdb.DuckDBPyConnection | Store, suite_names: list[str] | None = None, *,
             docs_dir: Path | None = None, as_of: dt.date | None = None,
             suites_dir: Path = EXPECTATIONS_DIR, incremental: bool = False) -> list[SuiteResult]:
    """Validate the store against the suites (all of ``expectations/`` by default).

    Suites whose table does not exist yet are returned with ``success=None``. ``as_of``
    (default today) is the DuckDB variable ``as_of`` that plausibility rules read. ``incremental``: a staging
    suite counts only the batches the last validation did not (pipelines/quality/batches.py), as a pipeline run
    does; the results are the same either way.
    """
    if isinstance(conn_or_store, Store):
        with conn_or_store.connect() as conn:
            return validate(conn, suite_names, docs_dir=docs_dir, as_of=as_of, suites_dir=suites_dir,
                            incremental=incremental)
    conn = conn_or_store
    ensure_schema(conn)
    as_of = as_of or dt.date.today()
    conn.execute("SET VARIABLE as_of = ?::DATE", [as_of.isoformat()])
    docs = suite_docs(suites_dir)
    names = suite_names or list(docs)
    run_at = dt.datetime.now()
    fingerprint: list[str | None] = []  # made once, when a suite first needs it (it digests the code)
    states = batches.kept_states(conn)
    # the store's tables and views, read once (a catalog look-up per suite costs milliseconds each)
    relations = {f"{a}.{b}" for a, b in conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
        "SELECT schema_name, view_name FROM duckdb_views()").fetchall()}
    out: list[SuiteResult] = []
    results: list[list] = []  # rows of quality.validation_results, written at once
    for name in names:
        started = time.perf_counter()
        suite = gx_duckdb.load_suite(docs[name])
        table = suite.meta["table"]
        if table not in relations:
            conn.execute("DELETE FROM quality.expectation_failures WHERE suite = ?", [name])
            batches.drop(conn, name, states)
            out.append(SuiteResult(name, table, None, n_expectations=len(suite.expectations)))
            continue

        def store_failures(o: gx_duckdb.Outcome) -> None:
            _store_failures(conn, suite, table, run_at, o)
        built = "full"
        if batches.applies(conn, suite, table):
            if not fingerprint:
                fingerprint.append(batches.fingerprint(conn, as_of))
            gx_result, outcomes, built = batches.evaluate(conn, suite, table, fingerprint=fingerprint[0],
                                                          incremental=incremental, store_failures=store_failures,
                                                          states=states)
        else:
            conn.execute("DELETE FROM quality.expectation_failures WHERE suite = ?", [name])
            batches.drop(conn, name, states)
            gx_result, outcomes = gx_duckdb.evaluate(conn, suite, table)
            for o in outcomes:
                if not o.success and not o.error and o.unexpected_count:
                    store_failures(o)
        results += [[run_at, name, table, o.kind, o.meta.get("rule"), o.meta.get("level"),
                     o.kwargs.get("column") or o.meta.get("column"), o.success, o.element_count,
                     o.unexpected_count, o.error] for o in outcomes]
        failed = [o for o in outcomes if not o.success]
        out.append(SuiteResult(
            suite=name, table=table, success=not failed,
            blocking=[o.meta.get("rule") or o.kind for o in failed if o.meta.get("level") == STRUCTURAL],
            n_expectations=len(outcomes), n_failed=len(failed),
            failing_rows=sum(o.unexpected_count for o in failed), outcomes=outcomes, gx_result=gx_result,
            seconds=time.perf_counter() - started, built=built,
        ))
    insert_rows(conn, "quality.validation_results", results)
    if docs_dir is not None:
        build_data_docs(out, Path(docs_dir))
    return out


def build_data_docs(results: list[SuiteResult], docs_dir: Path) -> Path:
    """GX-rendered page per suite under ``docs_dir/validations/`` and a Chinese ``index.html``."""
    (docs_dir / "validations").mkdir(parents=True, exist_ok=True)
    rows = []
    for r in results:
        if r.gx_result is not None:
            r.docs_page = docs_dir / "validations" / f"{r.suite}.html"
            r.docs_page.write_text(gx_duckdb.render_html(r.gx_result), encoding="utf-8")
            link = f'<a href="validations/{html.escape(r.suite)}.html">{html.escape(r.suite)}</a>'
        else:
            link = html.escape(r.suite)
        state = "未运行（表不存在）" if r.skipped else ("通过" if r.success else
                                                   ("阻断" if r.blocking else "有警告"))
        rows.append(f"<tr><td>{link}</td><td>{html.escape(r.table)}</td><td>{state}</td>"
                    f"<td>{r.n_expectations}</td><td>{r.n_failed}</td><td>{r.failing_rows}</td>"
                    f"<td>{html.escape('、'.join(r.blocking))}</td></tr>")
    index = docs_dir / "index.html"
    index.write_text(
        "<!doctype html><html lang='zh'><meta charset='utf-8'><title>数据质量校验结果</title>"
        "<body><h1>数据质量校验结果</h1><table border='1' cellpadding='4'>"
        "<tr><th>规则集</th><th>数据表</th><th>结果</th><th>规则数</th><th>未通过规则</th>"
        "<th>问题行数</th><th>阻断下游的规则</th></tr>" + "".join(rows) + "</table></body></html>",
        encoding="utf-8")
    return index
