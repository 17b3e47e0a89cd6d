"""`make bench` end to end at a tiny size: every stage's row, the +1 % run (on the store, and as a district
partition), the baseline ratio, and the per-statement profile (--statements) — the tool the city-scale
figures in docs/benchmarks.md come from."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from pipelines.bench import STAGES
from pipelines.paths import REPO_ROOT


@pytest.mark.slow
def test_bench_prints_every_stage_the_incremental_run_the_ratio_and_the_statements(tmp_path):
    env = dict(os.environ, BENCH_DIR=str(tmp_path))
    done = subprocess.run(
        # the partitioned-vs-one-store check (--city-persons) builds a demo city twice; tests/test_city.py makes the
        # same comparison through the CLI
        [sys.executable, "-m", "pipelines.bench", "--sizes", "3000", "--incremental-at", "3000", "--statements",
         "--city-persons", "0"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines() if line.startswith("| ")}
    for stage in STAGES:
        assert stage in rows and f"+1% {stage}" in rows and f"district {stage}" in rows, stage
    assert "**total**" in rows and "**total (+1% run)**" in rows and "**total (district run)**" in rows
    assert "ratio pipeline / baseline = " in done.stdout
    assert "incremental: adding 1 % new persons' rows and re-running took " in done.stdout
    # the batch is a street of another district (510104; the store's is 510107): as a district partition
    assert re.search(r"the same batch as a district partition .*: \d+\.\d s = \d+ % of the full build — applies "
                     r"here: the batch is district 510104, the store holds 510107", done.stdout), done.stdout[-1500:]
    # …and the city pass over the two stores makes them one city again
    assert re.search(r"\+1 % as a district plus the city pass .*: \d+\.\d \+ \d+\.\d s = \d+\.\d s = \d+ % of the full build",
                     done.stdout), done.stdout[-1500:]
    assert "**total (city run)**" in rows
    # the profile names the statements of each stage, the report families and the slowest suites
    for marker in ("core/person_records_build.sql: CREATE", "core/identity_publish.sql: CREATE", "core/evidence.sql: CREATE",
                   "report population-monthly", "report courtyard-profile"):
        assert marker in done.stderr, marker
    assert re.search(r"validate: (staging|core|raw)_\w+ \d+\.\d", done.stderr)
    assert (tmp_path / "home-3000" / "store.duckdb").exists()
