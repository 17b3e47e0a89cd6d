"""The GX-on-DuckDB workaround: the trap is still there, and our evaluation counts right."""
from __future__ import annotations

import duckdb
import great_expectations as gx
from great_expectations.core import ExpectationSuite

from pipelines.quality import gx_duckdb


def test_gx_still_has_no_duckdb_engine():
    """Fails when an upgrade makes GX's own SQL engine usable on DuckDB: then drop gx_duckdb."""
    from great_expectations.execution_engine.sqlalchemy_dialect import GXSqlDialect
    from great_expectations.execution_engine.sqlalchemy_execution_engine import _PERSISTED_CONNECTION_DIALECTS

    assert gx.__version__.startswith("1.24.")
    # GX closes the connection after each query unless the dialect is listed here; DuckDB is not.
    assert "duckdb" not in {d.value for d in _PERSISTED_CONNECTION_DIALECTS}
    assert "duckdb" not in {d.value for d in GXSqlDialect}        # no dialect: regex etc. unsupported
    context = gx.get_context(mode="ephemeral")
    assert not hasattr(context.data_sources, "add_duckdb")          # native engine (PR #12084) not there


def _suite(*exps):
    return ExpectationSuite(name="t", expectations=list(exps))


def test_counts_match_independent_sql(tmp_path):
    conn = duckdb.connect(str(tmp_path / "t.duckdb"))
    conn.execute("""CREATE TABLE t AS SELECT i AS id,
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || (i % 5) END AS code,
        CASE WHEN i % 11 = 0 THEN 'bad' ELSE '1' || lpad(i::VARCHAR, 10, '0') END AS phone,
        DATE '2020-01-01' + INTERVAL (i) DAY AS d, i % 300 AS k FROM range(1000) t(i)""")
    suite = _suite(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "code"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "code", "value_set": ["v1", "v2"]}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "d", "max_value": {"$PARAMETER": "as_of"}}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "phone", "regex": "^1[0-9]{10}$"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "k"}},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["k", "code"]}},
        {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE id > 990"}},
        {"type": "expect_column_values_to_match_regex",
         "kwargs": {"column": "phone", "regex": "^1[0-9]{10}$", "mostly": 0.9}},
        {"type": "expect_column_values_to_be_increasing", "kwargs": {"column": "id"}},
    )
    conn.execute("SET VARIABLE as_of = DATE '2021-06-30'")
    result, outcomes = gx_duckdb.evaluate(conn, suite, "t")

    def n(sql):
        return conn.execute(sql).fetchall()[0][0]
    expected = [
        n("SELECT count(*) FROM t WHERE code IS NULL"),
        n("SELECT count(*) FROM t WHERE code IS NOT NULL AND code NOT IN ('v1','v2')"),
        n("SELECT count(*) FROM t WHERE d > DATE '2021-06-30'"),
        n("SELECT count(*) FROM t WHERE phone = 'bad'"),
        n("SELECT sum(c) FROM (SELECT count(*) c FROM t GROUP BY k HAVING c > 1)"),
        n("SELECT sum(c) FROM (SELECT count(*) c FROM t WHERE code IS NOT NULL GROUP BY k, code HAVING c > 1)"),
        9,
        n("SELECT count(*) FROM t WHERE phone = 'bad'"),
    ]
    assert [o.unexpected_count for o in outcomes[:8]] == expected
    assert expected[3] == 91 and expected[4] == 1000
    assert [o.success for o in outcomes[:8]] == [False] * 7 + [True]     # mostly=0.9 tolerates 9.1%
    # Failing rows come whole from our SQL, not from GX's partial list (which stops at 20).
    r = result.results[1].result
    assert len(r["partial_unexpected_list"]) == 20
    assert n(f"SELECT count(*) FROM ({r['unexpected_index_query']})") == expected[1]
    assert outcomes[8].error and not outcomes[8].success                 # unsupported: reported, not skipped
    assert result.success is False and result.statistics["evaluated_expectations"] == 9
    html = gx_duckdb.render_html(result)
    assert "expect_column_values_to_be_in_set" in html or "values must belong to this set" in html
