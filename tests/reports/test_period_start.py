"""人口变动月报's 期初 statuses kept between builds (pipelines/marts/period_start.py): after a batch that brings
records dated before the period's eve (补录) and new visits, the kept rows are brought up to date for the persons the
status steps replaced and equal every person's status decided afresh for the eve; a full status step, another eve or
another window decides them whole; a read-only connection uses them only when they are current."""
from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest

from pipelines import demo
from pipelines.bench import Timer, run_stages
from pipelines.marts import period_start
from pipelines.status import build_status, status_at
from pipelines.store import Store

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 10, 31)
EVE = dt.date(2026, 9, 30)
COLUMNS = "person_key, as_of, freshness_days, status, house_code, microgrid_code, grid_code"


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> list[Path]:
    """A demo street's files in two inbox folders (seeded shuffle: housing, grids, residents and visits of every date
    in both, so the second brings evidence dated before the eve for persons of the first)."""
    root = tmp_path_factory.mktemp("period-start")
    inbox = root / "inbox"
    demo.generate(inbox, root / "truth", persons=300, seed=5, as_of=AS_OF)
    files = sorted(p for p in inbox.rglob("*") if p.is_file())
    random.Random(7).shuffle(files)
    cut = len(files) * 2 // 3
    folders = []
    for i, chunk in enumerate((files[:cut], files[cut:])):
        for path in chunk:
            target = root / f"batch-{i}" / path.relative_to(inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
        folders.append(root / f"batch-{i}")
    return folders


def _afresh(conn, eve: dt.date = EVE) -> list[tuple]:
    conn.execute("DROP TABLE IF EXISTS fresh_start")      # status_at keeps its table per connection and date
    status_at(conn, "fresh_start", as_of=eve)
    return sorted(conn.execute(f"SELECT {COLUMNS} FROM fresh_start").fetchall(), key=str)


def _kept(conn) -> list[tuple]:
    return sorted(conn.execute(f"SELECT {COLUMNS} FROM {period_start.TABLE}").fetchall(), key=str)


def test_kept_statuses_follow_a_batch_and_equal_a_fresh_decision(batches, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), batches[:1], home)          # the report step keeps the eve's statuses
        assert period_start.keep(conn, EVE) == "kept"         # nothing replaced since: kept as they are
        first = _kept(conn)
        assert first == _afresh(conn)

        run_stages(conn, Timer(), batches, home, stop_after="validate")
        changed = {p for (p,) in conn.execute(f"SELECT person_key FROM {period_start.CHANGED}").fetchall()}
        assert changed, "the second batch changes persons"
        assert period_start.keep(conn, EVE) == "delta"
        now = _kept(conn)
        assert now == _afresh(conn)
        # the batch changed the eve itself (records dated before it), not only statuses on D
        assert now != first
        assert conn.execute(f"SELECT count(*) FROM {period_start.CHANGED}").fetchall()[0][0] == 0

        # a full status step leaves nothing to go by: whole again
        build_status(conn, as_of=AS_OF)
        assert period_start.keep(conn, EVE) == "full"
        assert _kept(conn) == now
        # another eve (the next month's build): whole, for that eve
        assert period_start.keep(conn, EVE + dt.timedelta(days=31)) == "full"
        assert _kept(conn) == _afresh(conn, EVE + dt.timedelta(days=31))
        assert period_start.keep(conn, EVE) == "full"


def test_the_report_reads_kept_rows_only_when_they_are_current(batches, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), batches, home, stop_after="report")
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        period_start.opening_status(conn, "rc_start", EVE)
        assert conn.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'rc_start'"
                            ).fetchall() == [(1,)]
        assert sorted(conn.execute(f"SELECT {COLUMNS} FROM rc_start").fetchall(), key=str) == _afresh(conn)
        # another period: decided afresh, the same rules
        period_start.opening_status(conn, "rc_start", EVE - dt.timedelta(days=10))
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'rc_start'"
                            ).fetchall() == [(1,)]
    # a status step replaced rows after the report step: a read-only reader decides afresh, a writer catches up
    with Store(home / "store.duckdb").connect() as conn:
        conn.execute(f"INSERT INTO {period_start.CHANGED} SELECT person_key FROM core.person_status LIMIT 3")
        conn.execute(f"UPDATE {period_start.TABLE} SET status = '死亡' WHERE person_key IN "
                     f"(SELECT person_key FROM {period_start.CHANGED})")
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        period_start.opening_status(conn, "rc_start", EVE)
        assert sorted(conn.execute(f"SELECT {COLUMNS} FROM rc_start").fetchall(), key=str) == _afresh(conn)
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'rc_start'"
                            ).fetchall() == [(1,)]
    with Store(home / "store.duckdb").connect() as conn:
        period_start.opening_status(conn, "rc_start", EVE)
        assert sorted(conn.execute(f"SELECT {COLUMNS} FROM rc_start").fetchall(), key=str) == _afresh(conn)
        assert _kept(conn) == _afresh(conn)
