"""人口变动月报's transitions kept between builds (marts.period_changes, pipelines/marts/period_start.py): after a
batch that brings records dated before the period's eve (补录) and one visit that turns a resident of both dates
into 已离开 on D, the build's report step decides again only the persons pending, and the kept rows equal the
transitions decided afresh; the report read from them is byte for byte the report decided whole. A delta set made
too narrow (a person left out) fails here: the visited person's row is kept stale."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from pipelines.bench import Timer, run_stages
from pipelines.marts import period_start
from pipelines.reports import render_report
from pipelines.status import delta, status_at
from pipelines.store import Store
# the demo street's files in two inbox folders, the second bringing 补录 before the eve and new statuses on D
from tests.reports.test_period_start import batches  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 10, 31)
EVE = dt.date(2026, 9, 30)


def _kept(conn) -> list[tuple]:
    return sorted(conn.execute(f"SELECT * FROM {period_start.CHANGES}").fetchall(), key=str)


def _afresh(conn) -> list[tuple]:
    """Every transition decided from scratch: the eve's statuses by the rules (not the kept rows), then the
    transitions SQL over every person."""
    period_start._drop(conn, "rc_start")
    status_at(conn, "rc_start", as_of=EVE)
    Store.run_sql(conn, period_start.TRANSITIONS_SQL, as_of=AS_OF, transitions_delta=False)
    rows = sorted(conn.execute("SELECT * FROM rc_transition_rows").fetchall(), key=str)
    period_start._drop(conn, "rc_start")
    return rows


def _leaving_visit(conn, folder: Path) -> str:
    """A visits file: one person 在住 on the eve and on D in the same house, seen 已搬离 there on D (newer than any
    presence of theirs: none dated D, no residence permit, which would count as presence dated D)."""
    [(person, house, name, id_number)] = conn.execute(f"""
        SELECT p.person_key, p.house_code, p.name, p.id_number
        FROM marts.persons p JOIN {period_start.TABLE} s USING (person_key)
        WHERE p.status = '在住' AND s.status = '在住' AND p.house_code = s.house_code AND length(p.id_number) = 18
          AND NOT EXISTS (SELECT 1 FROM core.evidence e WHERE e.person_key = p.person_key
                          AND (e.template = 'floating' OR e.evidence_date >= getvariable('as_of')))
        ORDER BY p.person_key LIMIT 1""").fetchall()
    (folder / "visits").mkdir(parents=True, exist_ok=True)
    with (folder / "visits" / "leaving.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["记录编号", "房屋编码", "姓名", "公民身份号码", "走访日期", "走访结果", "网格员", "备注"])
        w.writerow(["ZF-LEAVE-1", house, name, id_number, AS_OF.isoformat(), "已搬离", "测试", ""])
    return person


def _render(conn, out: Path) -> dict[str, bytes]:
    paths = render_report(conn, "population-changes", out_dir=out, as_of=AS_OF, home=out)
    return {p.name: p.read_bytes() for p in paths}


def _reads_kept(conn) -> bool:
    [(sql,)] = conn.execute("SELECT sql FROM duckdb_views() WHERE temporary AND view_name = 'rc_transitions'"
                            ).fetchall()
    return period_start.CHANGES in sql


def test_kept_transitions_follow_a_batch_and_the_report_equals_one_decided_whole(batches, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), batches[:1], home)          # the report step keeps the transitions whole
        assert delta.stored(conn, period_start.CHANGES_STEP) is not None
        first = _kept(conn)
        assert first and first == _afresh(conn)

        # the rest of the street's files: 补录 before the eve, new statuses on D
        run_stages(conn, Timer(), batches, home, stop_after="validate")
        assert period_start.keep_for(conn, AS_OF) == "delta"
        assert conn.execute(f"SELECT count(*) FROM {period_start.CHANGES_PENDING}").fetchall() == [(0,)]
        second = _kept(conn)
        assert second == _afresh(conn)
        assert second != first

        # one person's status in the period: 在住 at both points, then seen 已搬离 on D
        extra = tmp_path / "extra"
        conn.execute("SET VARIABLE as_of = ?::DATE", [AS_OF])
        leaving = _leaving_visit(conn, extra)
        assert leaving not in {r[0] for r in second}
        run_stages(conn, Timer(), [*batches, extra], home, stop_after="validate")
        assert leaving in {p for (p,) in conn.execute(f"SELECT person_key FROM {period_start.CHANGED}").fetchall()}
        assert period_start.keep_for(conn, AS_OF) == "delta"
        now = _kept(conn)
        assert now == _afresh(conn)
        [row] = [r for r in now if r[0] == leaving]
        assert (row[1], row[4]) == ("在住", "已离开")
        assert set(now) - {row} == set(second)

        # the report reads the kept rows, and its files are those of the transitions decided whole
        kept_files = _render(conn, tmp_path / "kept")
        assert _reads_kept(conn)
        delta.remember(conn, period_start.CHANGES_STEP, None)
        whole_files = _render(conn, tmp_path / "whole")
        assert not _reads_kept(conn)
        assert kept_files == whole_files
        assert any(leaving.encode() in b for n, b in kept_files.items() if n.endswith("-out.csv"))


def test_transitions_are_not_read_while_anything_is_pending(batches, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), batches, home, stop_after="report")
        _render(conn, tmp_path / "a")
        assert _reads_kept(conn)
        # a status step replaced rows since (a writer outside the build brings the eve up to date, and the
        # transitions wait for the next report step: the report decides them whole meanwhile)
        conn.execute(f"INSERT INTO {period_start.CHANGED} SELECT person_key FROM core.person_status LIMIT 3")
        assert period_start.keep(conn, EVE) == "delta"
        assert conn.execute(f"SELECT count(*) FROM {period_start.CHANGES_PENDING}").fetchall() == [(3,)]
        _render(conn, tmp_path / "b")
        assert not _reads_kept(conn)
        # marts not built since an incremental status step: nothing kept
        conn.execute("CREATE TABLE scratch.person_delta AS SELECT person_key FROM core.person_status LIMIT 1")
        assert period_start.keep_transitions(conn, EVE, AS_OF, "x") == "none"
        assert delta.stored(conn, period_start.CHANGES_STEP) is None
        conn.execute("DROP TABLE scratch.person_delta")
        assert period_start.keep_for(conn, AS_OF) == "kept"
        assert _kept(conn) == _afresh(conn)
        # a full eve (another window, code or eve) makes the transitions whole too
        delta.remember(conn, period_start.STEP, None)
        assert period_start.keep_for(conn, AS_OF) == "full"
        assert _kept(conn) == _afresh(conn)
        # nothing pending: kept as they are
        assert period_start.keep_for(conn, AS_OF) == "kept"
        assert period_start.keep_transitions(conn, EVE, AS_OF, delta.stored(conn, period_start.STEP)) == "kept"
        assert _kept(conn) == _afresh(conn)
        _render(conn, tmp_path / "c")
        assert _reads_kept(conn)
    with Store(home / "store.duckdb").connect(read_only=True) as conn:   # the portal reads them too
        _render(conn, tmp_path / "d")
        assert _reads_kept(conn)
