"""A small street with every kind of broken file beside it, run twice through the whole graph:
the first run's steward queue is already complete (the rules that read statuses included) and the
second run leaves the store and the queue exactly as they were."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines import demo
from pipelines.runner import run_pipeline
from pipelines.store import Store
from tests.ingest.conftest import RESIDENT_HEADER, resident, write_csv
from tests.ingest.corpus import valid_id, write_corpus

AS_OF = dt.date(2026, 10, 31)
# Tables a rerun of the same inbox must leave identical (lineage, decisions, outputs, the queue).
KEPT = ("raw.batches EXCLUDE (loaded_at, loaded_on)", "raw.row_errors", "raw.inbox_files", "raw.residents",
        "staging.residents", "core.persons", "core.person_links", "core.person_status", "marts.grid_population",
        "marts.person_sources", "quality.issues EXCLUDE (built_at)", "quality.expectation_failures EXCLUDE (run_at)")


def street_inbox(root: Path) -> Path:
    """The demo street at 2,000 persons, 14 people living in one of its flats, and the corpus."""
    inbox = root / "inbox"
    demo.generate(inbox, root / "truth", persons=2000, seed=11, as_of=AS_OF)
    house = pl.read_csv(next((inbox / "housing").glob("*.csv")), infer_schema=False)["房屋编码"][0]
    crowd = [resident(900 + i, name=f"群租{i}", id_number=valid_id(f"51010719850101{i:03d}"), 房屋编码=house,
                      collected="2026-09-01") for i in range(14)]
    write_csv(inbox / "residents" / "群租房.csv", RESIDENT_HEADER, crowd)
    write_corpus(inbox)
    return inbox


def snapshot(home: Path) -> dict[str, list]:
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        return {t: conn.execute(f"SELECT * {t[t.index(' '):] if ' ' in t else ''} FROM {t.split(' ')[0]} ORDER BY ALL")
                .fetchall() for t in KEPT}


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    root = tmp_path_factory.mktemp("street")
    return {"inbox": street_inbox(root), "root": root}


@pytest.mark.slow
def test_the_first_run_finds_everything_and_a_rerun_changes_nothing(street, tmp_path):
    home = tmp_path / "home"
    first = run_pipeline(home=home, inbox=street["inbox"], as_of=AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert first.success, first.error
    once = snapshot(home)
    rules = {r[1] for r in once["quality.issues EXCLUDE (built_at)"]}
    assert {"house_overcrowded", "house_unknown", "quote_broken", "cell_error", "control_char"} <= rules
    second = run_pipeline(home=home, inbox=street["inbox"], as_of=AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert second.success and second.batches == []
    twice = snapshot(home)
    for table in KEPT:
        assert twice[table] == once[table], table
