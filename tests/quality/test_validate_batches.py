"""Staging suites counted per batch (pipelines/quality/batches.py): an incremental validation keeps the counts and
failing rows of the batches it counted before and must still give exactly what a full validation gives — also
when a batch is withdrawn (its counts and failing rows must go) or delivered again under the same batch id with
other rows (they must be counted again, not kept)."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines import demo
from pipelines.bench import Timer, run_stages
from pipelines.quality import validate
from pipelines.store import Store

pytestmark = pytest.mark.slow  # builds a street through every stage up to validation

AS_OF = dt.date(2026, 10, 31)


def _state(conn) -> dict:
    """What a validation leaves: the newest run's results, the failing rows, the per-batch counts."""
    return {
        "results": conn.execute(
            "SELECT suite, expectation_type, rule, column_name, success, element_count, unexpected_count, error "
            "FROM quality.validation_results WHERE run_at = (SELECT max(run_at) FROM quality.validation_results) "
            "ORDER BY ALL").fetchall(),
        "failures": conn.execute("SELECT * EXCLUDE (run_at) FROM quality.expectation_failures ORDER BY ALL").fetchall(),
        "batches": conn.execute("SELECT * FROM quality.validation_batches ORDER BY ALL").fetchall(),
    }


def _incremental_then_full(store) -> tuple[dict, dict]:
    """Validate incrementally, then whole, each on a connection of its own (as pipeline runs do: nothing of the
    last validation's working tables is left to lean on)."""
    with Store(store).connect() as conn:
        results = validate(conn, as_of=AS_OF, incremental=True)
        assert {r.built for r in results if r.suite.startswith("staging_") and not r.skipped} == {"delta"}
        incremental = _state(conn)
    with Store(store).connect() as conn:
        assert {r.built for r in validate(conn, as_of=AS_OF, incremental=False)} == {"full"}
        return incremental, _state(conn)


def _sql(store, sql: str, params=()) -> list:
    with Store(store).connect() as conn:
        return conn.execute(sql, list(params)).fetchall()


def _phone_failures(store, batch: str) -> int:
    return _sql(store, "SELECT count(*) FROM quality.expectation_failures WHERE rule = 'phone_invalid' "
                "AND batch_id = ?", [batch])[0][0]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("validate-batches")
    demo.generate(root / "inbox", root / "truth", persons=150, seed=5, as_of=AS_OF)
    home = root / "home"
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), [root / "inbox"], home, stop_after="validate")
    return home / "store.duckdb"


def test_a_withdrawn_batch_leaves_no_counts_and_a_redelivered_one_is_counted_again(store):
    residents = [b for (b,) in _sql(store, "SELECT batch_id FROM raw.batches WHERE template = 'residents' "
                                    "AND status = 'loaded' ORDER BY batch_id")]
    visits = [b for (b,) in _sql(store, "SELECT DISTINCT batch_id FROM staging.visits ORDER BY batch_id")]
    assert residents and visits

    # nothing new: every count kept, the same as counting all again
    incremental, full = _incremental_then_full(store)
    assert incremental == full

    # withdrawn: the visits batch's rows are gone from raw and staging
    gone = visits[0]
    assert _sql(store, "SELECT count(*) FROM quality.validation_batches WHERE batch_id = ?", [gone])[0][0]
    for table in ("raw.batches", "raw.visits", "raw.row_errors", "staging.visits"):
        _sql(store, f"DELETE FROM {table} WHERE batch_id = ?", [gone])
    incremental, full = _incremental_then_full(store)
    assert incremental == full
    assert not [b for b in incremental["batches"] if b[1] == gone]
    assert not [f for f in incremental["failures"] if gone in f]

    # delivered again under the same batch id (as a re-examined file is: pipelines/ingest _write_batch) with
    # other rows: every second phone number is now wrong
    again = residents[0]
    before = _phone_failures(store, again)
    _sql(store, "UPDATE raw.batches SET loaded_at = loaded_at + INTERVAL 1 DAY WHERE batch_id = ?", [again])
    _sql(store, "UPDATE staging.residents SET phone = '12' WHERE batch_id = ? AND row_no % 2 = 0", [again])
    wrong = _sql(store, "SELECT count(*) FROM staging.residents WHERE batch_id = ? AND phone = '12'", [again])[0][0]
    incremental, full = _incremental_then_full(store)
    assert incremental == full
    assert _phone_failures(store, again) >= wrong > before

    # a batch delivered again with fewer rows (its raw.batches row the same): the rows it lost are not counted
    _sql(store, "DELETE FROM staging.residents WHERE batch_id = ? AND phone = '12'", [again])
    incremental, full = _incremental_then_full(store)
    assert incremental == full
    assert _phone_failures(store, again) <= before
