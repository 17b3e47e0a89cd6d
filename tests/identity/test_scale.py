"""The linkage on a synthetic 200k-record table: timing and the shape of the result."""
from __future__ import annotations

import time

import pytest

from pipelines.identity import link_persons
from tests.identity.synthetic import make_synthetic


@pytest.mark.slow
def test_200k_records_link_quickly_and_consistently(store, run_date):
    with store.connect() as conn:
        n_records = make_synthetic(conn, 95_000)
        assert 190_000 <= n_records <= 215_000
        started = time.perf_counter()
        summary = link_persons(conn, run_date=run_date)
        elapsed = time.perf_counter() - started
        print(f"identity: {n_records} records in {elapsed:.1f}s: {summary}")
        # Generous bound: CI machines are shared; the benchmark in the report is the real figure.
        assert elapsed < 60
        assert conn.execute("SELECT count(*), count(DISTINCT record_key) FROM core.person_links").fetchall()[0] == (
            n_records, n_records)
        # Every valid ID is exactly one person, and no person holds two valid IDs.
        assert conn.execute("""
            SELECT count(*) FROM (
                SELECT l.person_key FROM core.person_links l
                JOIN core.person_records r USING (record_key)
                WHERE r.id_valid GROUP BY l.person_key HAVING count(DISTINCT r.id_number) > 1)
        """).fetchall()[0][0] == 0
        assert conn.execute("""
            SELECT count(*) FROM (
                SELECT r.id_number FROM core.person_links l JOIN core.person_records r USING (record_key)
                WHERE r.id_valid GROUP BY r.id_number HAVING count(DISTINCT l.person_key) > 1)
        """).fetchall()[0][0] == 0
        # The synthetic mistyped death IDs all find their person.
        assert conn.execute("""
            SELECT count(*) FILTER (WHERE l.rule = 'id_typo'), count(*)
            FROM core.person_links l JOIN core.person_records r USING (record_key)
            WHERE r.template = 'deaths'
        """).fetchall()[0] in [(n, n) for n in range(1, n_records)]
        # Homophone rows (same birth date and house) join the right person: the ID-bearing row
        # of the same synthetic person (row_no = person number).
        wrong = conn.execute("""
            SELECT count(*) FROM core.person_links f
            JOIN core.person_records fr USING (record_key)
            JOIN core.person_records rr ON rr.template = 'residents' AND rr.row_no = fr.row_no AND rr.id_valid
            JOIN core.person_links rl ON rl.record_key = rr.record_key
            WHERE fr.template = 'floating' AND f.person_key IS DISTINCT FROM rl.person_key
        """).fetchall()[0][0]
        floating = conn.execute("SELECT count(*) FROM core.person_records WHERE template = 'floating'").fetchall()[0][0]
        assert wrong <= floating * 0.01
        again = link_persons(conn, run_date=run_date)
        assert again["new_keys"] == 0 and again["rules"] == summary["rules"]
