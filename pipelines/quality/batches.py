"""A staging suite validated per batch: a new batch costs its own rows, not the whole table.

Most of a staging suite's expectations look at one row, or at rows of one batch (a uniqueness within the file,
the batch's own raw rows and its raw.batches row): their counts over the table are the sums of their counts per
batch. Those counts are kept per batch and expectation in ``quality.validation_batches``, with a digest of what
the batch is (its raw.batches row and how many staging rows it has); a build counts only the batches it has no
counts for, drops those of batches withdrawn or delivered again (another digest), and adds the kept ones up —
the totals in ``quality.validation_results`` are a full run's. Their failing rows in
``quality.expectation_failures`` are replaced per batch alike. An expectation that reads anything else
(``house_unknown`` reads core.houses, which any batch of housing changes) is evaluated whole on every build.

Everything is counted again, for every batch, when the code, the steward fixes in force (they retype rows of
earlier batches) or the as-of date differ from the last build's (``core.build_state``, pipelines/status/delta.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb

from pipelines.quality import gx_duckdb
from pipelines.quality.gx_duckdb import PREDICATE_TYPES, Outcome, predicate, unexpected_rows_sql
from pipelines.status.delta import remember, validation_fingerprint
from pipelines.store import table_exists
from pipelines.store import insert_rows

_UNIQUE = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
_TODO = "(SELECT batch_id FROM q_vb_todo)"


def applies(conn: duckdb.DuckDBPyConnection, suite, table: str) -> bool:
    """A staging suite of a template whose table says which batch each row came from."""
    return (suite.meta.get("layer") == "staging" and bool(suite.meta.get("template"))
            and "batch_id" in {d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description})


def batch_local(kind: str, kw: dict) -> bool:
    """Whether an expectation's count over a table is the sum of its counts over each batch's rows."""
    if (kw.get("mostly") or 1.0) < 1:  # whether its failing rows are listed depends on the whole table's share
        return False
    if kind in PREDICATE_TYPES:
        return True
    if kind in _UNIQUE:
        return "batch_id" in (kw.get("column_list") or [kw.get("column")])
    if kind == "unexpected_rows_expectation":
        # besides {batch}, only raw tables: the batch's own raw rows and raw.batches row (joined by batch_id)
        return all(t.startswith("raw.") for t in gx_duckdb.tables_named(kw["unexpected_rows_query"]))
    return False


def fingerprint(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> str | None:
    return validation_fingerprint(conn, as_of)


def kept_states(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every suite's stored fingerprint (step ``validate <suite>``) whose per-batch counts are there to keep, read
    at once: what ``delta.can_keep`` asks per step (both tables there, the step's fingerprint), not 2 × 20 catalog
    look-ups of several milliseconds each on every build."""
    if not table_exists(conn, "core.build_state"):  # quality.validation_batches: made by validate.ensure_schema
        return {}
    return dict(conn.execute("SELECT step, fingerprint FROM core.build_state WHERE step LIKE 'validate %'").fetchall())


def _failure_key(o_kwargs: dict, meta: dict) -> tuple:
    """What a failing row of an expectation is stored under besides the suite (validate._store_failures)."""
    return meta.get("rule"), o_kwargs.get("column") or meta.get("column")


def evaluate(conn: duckdb.DuckDBPyConnection, suite, table: str, *, fingerprint: str | None, incremental: bool,
             store_failures, states: dict[str, str]) -> tuple[object, list[Outcome], str]:
    """Evaluate ``suite`` over ``table`` with per-batch counts; store its failing rows through
    ``store_failures(outcome)``. ``states``: :func:`kept_states`. Returns (GX result, outcomes, 'delta' or 'full')."""
    name = suite.name
    exps = [e.configuration for e in suite.expectations]
    whole_keys = {_failure_key(c.kwargs, c.meta or {}) for c in exps if not batch_local(c.type, c.kwargs)}
    # an expectation whose failing rows cannot be told apart from a whole one's is evaluated whole as well
    local = [i for i, c in enumerate(exps)
             if batch_local(c.type, c.kwargs) and _failure_key(c.kwargs, c.meta or {}) not in whole_keys]
    step = f"validate {name}"
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE q_vb_current AS
        SELECT batch_id, md5(coalesce(b.batch_row, '-') || '|' || coalesce(s.n, 0)) AS digest
        FROM (SELECT batch_id, b::VARCHAR AS batch_row FROM raw.batches b WHERE template = ?) b
        FULL JOIN (SELECT batch_id, count(*) AS n FROM {table} GROUP BY ALL) s USING (batch_id)""",
                 [suite.meta["template"]])
    kept = incremental and fingerprint is not None and states.get(step) == fingerprint
    if kept:
        # withdrawn batches, and batches delivered again (another raw.batches row or other rows)
        conn.execute("DELETE FROM quality.validation_batches v WHERE suite = ? AND NOT EXISTS "
                     "(SELECT 1 FROM q_vb_current c WHERE c.batch_id = v.batch_id AND c.digest = v.digest)", [name])
    else:
        conn.execute("DELETE FROM quality.validation_batches WHERE suite = ?", [name])
    conn.execute("CREATE OR REPLACE TEMP TABLE q_vb_todo AS SELECT * FROM q_vb_current c WHERE NOT EXISTS "
                 "(SELECT 1 FROM quality.validation_batches v WHERE v.suite = ? AND v.batch_id = c.batch_id)",
                 [name])
    if kept:
        whole = " OR ".join(f"(f.rule IS NOT DISTINCT FROM {gx_duckdb.literal(r)} "
                            f"AND f.column_name IS NOT DISTINCT FROM {gx_duckdb.literal(c)})" for r, c in whole_keys)
        conn.execute(f"""
            DELETE FROM quality.expectation_failures f WHERE suite = ? AND (
                f.batch_id IS NULL OR f.batch_id IN {_TODO}
                OR f.batch_id NOT IN (SELECT batch_id FROM q_vb_current) OR {whole or 'false'})""", [name])
    else:
        conn.execute("DELETE FROM quality.expectation_failures WHERE suite = ?", [name])

    subset = f"(SELECT * FROM {table} WHERE batch_id IN {_TODO})"
    counted: dict[int, int] = {}
    if conn.execute("SELECT count(*) FROM q_vb_todo").fetchall()[0][0]:
        local, counted = _count_todo(conn, exps, local, subset)
        conn.execute(
            "INSERT INTO quality.validation_batches SELECT ?, t.batch_id, t.digest, e.exp_no, "
            "coalesce(n.element_count, 0), coalesce(n.unexpected_count, 0) "
            "FROM q_vb_todo t CROSS JOIN (SELECT unnest(?::INTEGER[]) AS exp_no) e "
            "LEFT JOIN q_vb_counts n USING (batch_id, exp_no)", [name, local])
    elif conn.execute("SELECT count(*) FROM q_vb_current").fetchall()[0][0]:
        # nothing new: every count is kept, and the expectations counted per batch are those the kept counts hold
        # (one whose per-batch query failed was evaluated whole)
        held = {i for (i,) in conn.execute("SELECT DISTINCT exp_no FROM quality.validation_batches WHERE suite = ?",
                                           [name]).fetchall()}
        local = [i for i in local if i in held]
    sums = {i: (int(dom), int(bad)) for i, dom, bad in conn.execute(
        "SELECT exp_no, sum(element_count), sum(unexpected_count) FROM quality.validation_batches "
        "WHERE suite = ? GROUP BY exp_no", [name]).fetchall()}

    total = gx_duckdb.table_rows(conn, table)
    outcomes: list[Outcome] = []
    for i, c in enumerate(exps):
        if i in local:
            dom, bad = sums.get(i, (0, 0))
            o = gx_duckdb.outcome(c, bad, dom if c.type in PREDICATE_TYPES else total,
                                  unexpected_rows_sql(c.type, c.kwargs, table))
            if counted.get(i):  # the failing rows of the batches counted now
                store_failures(dataclasses.replace(o, rows_sql=(
                    f"SELECT * FROM ({unexpected_rows_sql(c.type, c.kwargs, subset)}) WHERE batch_id IN {_TODO}"),
                    unexpected_count=counted[i]))
        else:
            o = gx_duckdb.evaluate_one(conn, c, table, total)
            if not o.success and not o.error and o.unexpected_count:
                store_failures(o)
        outcomes.append(o)
    if not kept:  # kept: the fingerprint stored is this one
        remember(conn, step, fingerprint)
    return gx_duckdb.suite_result(conn, suite, table, exps, outcomes, total), outcomes, "delta" if kept else "full"


def _count_todo(conn: duckdb.DuckDBPyConnection, exps: list, local: list[int], subset: str) -> tuple[
        list[int], dict[int, int]]:
    """Counts per batch of q_vb_todo into TEMP q_vb_counts(batch_id, exp_no, element_count, unexpected_count):
    for a row predicate its domain, else the batch's rows. Returns the expectations counted per batch (one whose
    query fails is left to the whole evaluation, which reports the error) and failing rows per expectation."""
    conn.execute("CREATE OR REPLACE TEMP TABLE q_vb_counts (batch_id VARCHAR, exp_no INTEGER, "
                 "element_count BIGINT, unexpected_count BIGINT)")
    preds = [i for i in local if exps[i].type in PREDICATE_TYPES]
    aggs = ["count(*)"]
    for i in preds:
        bad, dom = predicate(exps[i].type, exps[i].kwargs)
        aggs += [f"count(*) FILTER (WHERE {bad})", f"count(*) FILTER (WHERE {dom})"]
    try:
        rows = conn.execute(f"SELECT batch_id, {', '.join(aggs)} FROM {subset} GROUP BY batch_id").fetchall()
    except duckdb.Error:
        # one of the predicates is broken: those are evaluated whole (and reported there)
        local = [i for i in local if i not in preds]
        preds = []
        rows = conn.execute(f"SELECT batch_id, count(*) FROM {subset} GROUP BY batch_id").fetchall()
    sizes = {r[0]: r[1] for r in rows}
    values = []
    for r in rows:
        for j, i in enumerate(preds):
            values.append((r[0], i, r[3 + 2 * j], r[2 + 2 * j]))
    ok = list(preds)
    for i in (i for i in local if i not in preds):
        c = exps[i]
        if c.type in _UNIQUE:
            cols = c.kwargs.get("column_list") or [c.kwargs["column"]]
            keys = ", ".join(gx_duckdb.quote_ident(k) for k in cols)
            nn = " AND ".join(f"{gx_duckdb.quote_ident(k)} IS NOT NULL" for k in cols)
            sql = (f"SELECT batch_id, sum(n) FROM (SELECT batch_id, count(*) AS n FROM {subset} WHERE {nn} "
                   f"GROUP BY {keys} HAVING count(*) > 1) GROUP BY batch_id")
        else:
            sql = (f"SELECT batch_id, count(*) FROM ({unexpected_rows_sql(c.type, c.kwargs, subset)}) "
                   f"WHERE batch_id IN {_TODO} GROUP BY batch_id")
        try:
            bad = conn.execute(sql).fetchall()
        except duckdb.Error:
            continue
        ok.append(i)
        failing = dict(bad)
        values += [(b, i, sizes.get(b, 0), failing.get(b, 0)) for b in sizes.keys() | failing.keys()]
    insert_rows(conn, "q_vb_counts", values)
    counted = {i: n for i, n in conn.execute(
        "SELECT exp_no, sum(unexpected_count) FROM q_vb_counts GROUP BY exp_no").fetchall() if n}
    return sorted(ok), counted


def drop(conn: duckdb.DuckDBPyConnection, suite: str, states: dict[str, str]) -> None:
    """A suite validated whole (or whose table is gone) keeps no per-batch counts."""
    if states.get(f"validate {suite}") is not None:
        conn.execute("DELETE FROM quality.validation_batches WHERE suite = ?", [suite])
        remember(conn, f"validate {suite}", None)
