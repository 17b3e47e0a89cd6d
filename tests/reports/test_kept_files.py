"""Report files kept from the last build when what they print is unchanged (pipelines/reports/kept.py): a batch
that changes one community (a grid worker's visit finds a resident moved away) makes that community's files again
and keeps another community's; every file equals the same files made afresh, byte for byte."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipelines import demo
from pipelines.bench import Timer, run_stages
from pipelines.compare import file_differences
from pipelines.marts import build_portal_marts
from pipelines.publish.rendered import prerender
from pipelines.reports import render_all
from pipelines.store import Store

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 10, 31)


def _files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file() and p.suffix != ".json"}


def test_a_batch_touching_one_community_remakes_its_files_and_keeps_the_others(tmp_path):
    inbox, home = tmp_path / "inbox", tmp_path / "home"
    demo.generate(inbox, tmp_path / "truth", persons=300, seed=3, as_of=AS_OF)
    home.mkdir()
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), [inbox], home, stop_after="validate")
        build_portal_marts(conn)     # the portal's areas, as the build's portal marts asset makes them first
        communities = [c for (c,) in conn.execute(
            "SELECT DISTINCT community_code FROM marts.grids ORDER BY 1").fetchall()]
        assert len(communities) >= 2
        first = prerender(conn, tmp_path / "v1", AS_OF, limit=100)
        whole = render_all(conn, out_dir=home / "reports", as_of=AS_OF, home=home)
        # nothing changed: every file of the whole store kept, the same bytes
        before = {p.name: (p.stat().st_ino, p.read_bytes()) for p in whole}
        again = render_all(conn, out_dir=home / "reports", as_of=AS_OF, home=home)
        assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in again} == before
        # a resident of the first community seen moved away, at the house they live in
        [(house, name, id_number)] = conn.execute("""
            SELECT p.house_code, p.name, p.id_number FROM marts.persons p JOIN marts.grids g USING (microgrid_code)
            WHERE p.status = '在住' AND g.community_code = ? AND p.id_number IS NOT NULL
            ORDER BY p.person_key LIMIT 1""", [communities[0]]).fetchall()
    visits = tmp_path / "batch" / "visits"
    visits.mkdir(parents=True)
    with (visits / "回访.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["房屋编码", "姓名", "公民身份号码", "走访日期", "走访结果"],
                                 [house, name, id_number, "2026-10-20", "已搬离"]])
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), [inbox, tmp_path / "batch"], home, stop_after="validate")
        build_portal_marts(conn)
        assert conn.execute("SELECT status FROM marts.persons WHERE id_number = ?", [id_number]).fetchall() == [("已离开",)]
        prerender(conn, tmp_path / "v2", AS_OF, limit=100, previous_dir=tmp_path / "v1")
    with Store(home / "store.duckdb").connect() as conn:
        conn.execute("DELETE FROM core.build_state WHERE step LIKE 'report-files %'")   # nothing to keep from
        prerender(conn, tmp_path / "fresh", AS_OF, limit=100, previous_dir=tmp_path / "v1")
    assert first["report_files"] > 0
    assert file_differences(tmp_path / "v2" / "files", tmp_path / "fresh" / "files") == []

    old, new = _files(tmp_path / "v1" / "files"), _files(tmp_path / "v2" / "files")
    assert set(old) == set(new)
    kept = {k for k in new if new[k].stat().st_ino == old[k].stat().st_ino}
    remade = set(new) - kept

    def monthly(community: str) -> set[str]:
        return {k for k in new if f"/community-{community}/population-monthly/" in k}
    assert monthly(communities[0]) and monthly(communities[0]) <= remade
    assert any(old[k].read_bytes() != new[k].read_bytes() for k in monthly(communities[0]))
    assert monthly(communities[1]) and monthly(communities[1]) <= kept
    assert all(old[k].read_bytes() == new[k].read_bytes() for k in kept)


def test_a_kept_file_changed_since_it_was_recorded_is_made_again(tmp_path):
    """reuse() hashes the last build's files (their times are not in the build state, which an incremental build and
    a full rebuild must leave equal): a file with the same size but other bytes is refused, and the report is made
    again; the recorded state holds only the digest and the files' hashes."""
    import duckdb

    from pipelines.reports import kept as kept_files

    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA core")
    folder = tmp_path / "prev"
    folder.mkdir()
    (folder / "r.html").write_text("<p>7</p>", encoding="utf-8")
    keep = kept_files.Kept(conn, folder, "t")
    sha = kept_files.sha256_file(folder / "r.html")
    kept_files.record(keep, "d1", {"r.html": sha})
    assert conn.execute("SELECT fingerprint FROM core.build_state").fetchall()[0][0] == (
        '{"digest": "d1", "files": {"r.html": "%s"}}' % sha)
    out = tmp_path / "new"
    assert kept_files.reuse(keep, "d1", out) == {"r.html": sha}
    assert (out / "r.html").read_text(encoding="utf-8") == "<p>7</p>"
    assert kept_files.reuse(keep, "d2", out) is None            # made from something else
    (folder / "r.html").write_text("<p>8</p>", encoding="utf-8")   # same size, other bytes
    assert kept_files.reuse(keep, "d1", tmp_path / "new2") is None
    (folder / "r.html").write_text("<p>7</p>", encoding="utf-8")
    assert kept_files.reuse(keep, "d1", tmp_path / "new3") == {"r.html": sha}
