"""Timing: status for 1M synthetic persons / ~3M source rows (opt-in: ONCEONLY_STATUS_BENCH=1).

Prints the seconds of build_evidence, build_status and build_marts; the target for
build_status is < 10 s on 2 threads.
"""
from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from pipelines.marts import build_marts
from pipelines.status import build_evidence, build_status
from pipelines.store import Store
from tests.status.status_world import SCHEMA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("ONCEONLY_STATUS_BENCH"), reason="set ONCEONLY_STATUS_BENCH=1 to time"),
]

N = int(os.environ.get("ONCEONLY_STATUS_BENCH_N", "1000000"))

# h(i, salt) is a cheap deterministic pseudo-random number in [0, 1e6)
SYNTH = """
CREATE OR REPLACE TEMP MACRO h(i, salt) AS (hash(i::VARCHAR || salt) % 1000000)::BIGINT;
CREATE OR REPLACE TEMP MACRO day(i, salt, span) AS DATE '2024-01-01' + (hash(i::VARCHAR || salt) % span)::INTEGER;
INSERT INTO raw.batches SELECT t || '-b1', t, t || '/synthetic.csv', TIMESTAMP '2026-11-01 08:00', DATE '2026-11-01', 'loaded'
FROM unnest(['residents','visits','hukou','floating','assistance','deaths','disability']) u(t);
INSERT INTO core.grids (microgrid_code, grid_code, grid_name, grid_type, community_code, street_code, district_code)
SELECT 'MG' || m, 'G' || (m // 10), 'G' || (m // 10), '一般网格', 'C' || (m // 100), 'S1', '510104' FROM range(4000) t(m);
INSERT INTO core.houses (house_code, microgrid_code) SELECT 'H' || h, 'MG' || (h % 4000) FROM range(400000) t(h);
INSERT INTO core.persons SELECT 'P' || i, '张三', NULL, NULL, NULL, 1 FROM range(getvariable('n')) t(i);

CREATE TEMP TABLE rec AS
SELECT 'residents' AS template, i, 1 AS k FROM range(getvariable('n')) t(i)
UNION ALL SELECT 'residents', i, 2 FROM range(getvariable('n')) t(i) WHERE h(i, 'r2') < 200000
UNION ALL SELECT 'visits', i, 1 FROM range(getvariable('n')) t(i) WHERE h(i, 'v') < 800000
UNION ALL SELECT 'hukou', i, 1 FROM range(getvariable('n')) t(i) WHERE h(i, 'k') < 400000
UNION ALL SELECT 'floating', i, 1 FROM range(getvariable('n')) t(i) WHERE h(i, 'f') < 400000
UNION ALL SELECT 'assistance', i, 1 FROM range(getvariable('n')) t(i) WHERE h(i, 'a') < 100000
UNION ALL SELECT 'deaths', i, 1 FROM range(getvariable('n')) t(i) WHERE h(i, 'd') < 30000;
CREATE TEMP TABLE rec2 AS
SELECT *, template || '-b1' AS batch_id,
       (row_number() OVER (PARTITION BY template ORDER BY i, k) + 1)::INTEGER AS row_no,
       'H' || ((i * 7 + CASE WHEN h(i, 'mv' || k) < 50000 THEN k ELSE 0 END) % 400000) AS house
FROM rec;

INSERT INTO staging.residents (batch_id, row_no, record_no, house_code, category, collected_on)
SELECT batch_id, row_no, 'R' || row_no, house,
       ['户籍人口','流动人口','境外人员','未落户人员'][1 + h(i, 'c') % 4], day(i, 'rd' || k, 1000)
FROM rec2 WHERE template = 'residents';
INSERT INTO staging.visits (batch_id, row_no, record_no, house_code, visit_date, visit_result)
SELECT batch_id, row_no, 'V' || row_no, CASE WHEN h(i, 'vo') < 30000 THEN 'H' || (i % 400000) ELSE house END,
       day(i, 'vd', 1000), ['在住','在住','在住','在住','在住','在住','已搬离','人户分离','查无此人','空置','已死亡'][1 + h(i, 'vr') % 11]
FROM rec2 WHERE template = 'visits';
INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_status, change_date)
SELECT batch_id, row_no, 'K' || row_no, ['正常','正常','正常','正常','正常','正常','迁出','注销','死亡'][1 + h(i, 'ks') % 9],
       CASE WHEN h(i, 'kn') < 300000 THEN NULL ELSE day(i, 'kd', 2000) END
FROM rec2 WHERE template = 'hukou';
INSERT INTO staging.floating (batch_id, row_no, record_no, house_code, registered_on, permit_valid_until,
                              deregistered_on, deregistration_reason)
SELECT batch_id, row_no, 'F' || row_no, house, day(i, 'fr', 800),
       CASE WHEN h(i, 'fp') < 500000 THEN day(i, 'fp', 1500) END,
       CASE WHEN h(i, 'fx') < 200000 THEN day(i, 'fx', 1100) END,
       CASE WHEN h(i, 'fx') < 200000 THEN ['离开本地','死亡','转为户籍','其他'][1 + h(i, 'fy') % 4] END
FROM rec2 WHERE template = 'floating';
INSERT INTO staging.assistance (batch_id, row_no, record_no, assistance_type, monthly_amount, start_date, end_date)
SELECT batch_id, row_no, 'A' || row_no, '城市低保', 800, day(i, 'as', 900),
       CASE WHEN h(i, 'ae') < 300000 THEN day(i, 'ae', 1200) END
FROM rec2 WHERE template = 'assistance';
INSERT INTO staging.deaths (batch_id, row_no, record_no, death_date)
SELECT batch_id, row_no, 'D' || row_no, day(i, 'dd', 1000) FROM rec2 WHERE template = 'deaths';

INSERT INTO core.person_records (record_key, template, batch_id, row_no, record_no, house_code)
SELECT template || ':' || batch_id || ':' || row_no, template, batch_id, row_no, NULL,
       CASE WHEN template IN ('residents', 'visits', 'floating') THEN house END
FROM rec2;
INSERT INTO core.person_links
SELECT template || ':' || batch_id || ':' || row_no, 'P' || i, 'id_exact', NULL FROM rec2;
"""


def test_status_timing(tmp_path):
    store = Store(tmp_path / "store.duckdb", threads=int(os.environ.get("ONCEONLY_BENCH_THREADS", "2")))
    with store.connect() as conn:
        conn.execute(SCHEMA)
        conn.execute("SET VARIABLE n = ?", [N])
        conn.execute(SYNTH)
        sources = conn.execute("SELECT count(*) FROM core.person_records").fetchone()[0]
        t0 = time.perf_counter()
        build_evidence(conn)
        t1 = time.perf_counter()
        build_status(conn, as_of=dt.date(2026, 10, 31))
        t2 = time.perf_counter()
        build_marts(conn, as_of=dt.date(2026, 10, 31))
        t3 = time.perf_counter()
        evidence = conn.execute("SELECT count(*) FROM core.evidence").fetchone()[0]
        counts = dict(conn.execute("SELECT status, count(*) FROM core.person_status GROUP BY 1").fetchall())
    print(f"\n{N} persons, {sources} source rows, {evidence} evidence rows: "
          f"build_evidence {t1 - t0:.1f} s, build_status {t2 - t1:.1f} s, build_marts {t3 - t2:.1f} s; {counts}")
    assert sum(counts.values()) == N
    assert t2 - t1 < 30
