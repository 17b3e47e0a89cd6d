"""Issue 7.4: doubling the input must not more than ~double the work of any stage.

Work is measured as CPU seconds of this process (DuckDB's threads included), which a busy
machine disturbs far less than wall time, and, for identity, as the number of candidate pairs
its blocking produces (exact, so a quadratic join shows at once).
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from pipelines import demo
from pipelines.address import match_addresses
from pipelines.records import build_person_records
from pipelines.identity import link_persons
from pipelines.ingest import load_inbox
from pipelines.marts import build_marts
from pipelines.staging import build_staging
from pipelines.status import build_evidence, build_status
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)


def _run(tmp_path, persons: int) -> tuple[dict[str, float], dict]:
    inbox = tmp_path / f"inbox-{persons}"
    demo.generate(inbox, tmp_path / f"truth-{persons}", persons=persons, seed=11, as_of=AS_OF)
    cpu: dict[str, float] = {}
    link_summary: dict = {}
    with Store(tmp_path / f"home-{persons}" / "store.duckdb", threads=2).connect() as conn:
        def stage(name, fn):
            start = time.process_time()
            result = fn()
            cpu[name] = time.process_time() - start
            return result

        stage("read", lambda: load_inbox(conn, inbox, loaded_on=dt.date.today()))
        stage("stage", lambda: build_staging(conn))

        def core():
            Store.run_sql(conn, "core/grids.sql")
            Store.run_sql(conn, "core/houses.sql")
            match_addresses(conn)
            build_person_records(conn)
        stage("core", core)
        link_summary = stage("link", lambda: link_persons(conn, run_date=dt.date.today()))

        def status():
            build_evidence(conn)
            build_status(conn, as_of=AS_OF)
            build_marts(conn, as_of=AS_OF)
        stage("status", status)
    return cpu, link_summary


@pytest.mark.slow
def test_doubling_the_input_less_than_doubles_the_work_per_stage(tmp_path):
    small_cpu, small_link = _run(tmp_path, 15000)
    big_cpu, big_link = _run(tmp_path, 30000)
    assert big_link["blocked_pairs"] < 2.5 * max(small_link["blocked_pairs"], 1), (small_link, big_link)
    ratios = {k: big_cpu[k] / max(small_cpu[k], 0.05) for k in small_cpu}
    print({k: round(v, 2) for k, v in ratios.items()})
    assert all(r < 2.5 for r in ratios.values()), ratios
