"""Store versions (pipelines/versions.py): a run builds beside the live store and publishes atomically; a killed or
failed run publishes nothing; rollback; pruning; stewards' decisions made during a build reach the next one."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from openpyxl import Workbook

from pipelines import versions
from pipelines.cli import main as cli
from pipelines.paths import REPO_ROOT, store_path
from pipelines.quality import apply_workbook, pending
from pipelines.runner import run_pipeline
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture
def world(small_street, tmp_path):
    shutil.copytree(small_street / "home", tmp_path / "home", symlinks=True)
    shutil.copytree(small_street / "inbox", tmp_path / "inbox")
    return tmp_path / "home", tmp_path / "inbox"


def _count(home, sql: str):
    with Store(store_path(home)).connect(read_only=True, macros=False) as conn:
        return conn.execute(sql).fetchall()[0][0]


def _add_batch(inbox, name: str, rows: int = 5) -> None:
    """A new file: the first rows of a visits file under another name (a platform's re-export)."""
    source = sorted((inbox / "visits").glob("*.csv"))[0]
    lines = source.read_bytes().splitlines(keepends=True)
    (inbox / "visits" / name).write_bytes(b"".join(lines[: rows + 1]))


def _start_build(home, inbox) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--home", str(home), "--inbox", str(inbox),
                             "--as-of", AS_OF.isoformat()], cwd=REPO_ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_until_writing(home, proc, timeout: float = 120) -> versions.Version:
    """The build's version once its store is being written (its log exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        building = [v for v in versions.list_versions(home) if v.state == versions.BUILDING]
        if building and building[0].store.with_name("store.duckdb.wal").exists():
            return building[0]
        time.sleep(0.05)
    raise AssertionError("the build never started writing")


def test_the_first_run_publishes_version_1_as_the_live_link(small_street):
    home = small_street / "home"
    assert store_path(home).is_symlink() and os.readlink(store_path(home)) == "versions/000001/store.duckdb"
    v = versions.live(home)
    assert v.id == "000001" and v.state == versions.PUBLISHED and v.as_of == AS_OF.isoformat()
    assert len(v.record["new_batches"]) == v.record["batches"]["files"] > 20
    assert not v.store.with_name("store.duckdb.wal").exists()         # checkpointed: readers need no log
    # the operator's reports folder holds the live version's files (hard links)
    ours = v.dir / "reports" / AS_OF.isoformat() / "index.html"
    assert (home / "reports" / AS_OF.isoformat() / "index.html").stat().st_ino == ours.stat().st_ino


def test_a_killed_build_publishes_nothing_and_the_next_run_succeeds(world):
    home, inbox = world
    before = versions.live(home)
    persons = _count(home, "SELECT count(*) FROM core.persons")
    _add_batch(inbox, "补充走访.csv")
    proc = _start_build(home, inbox)
    killed = _wait_until_writing(home, proc)
    # meanwhile the live version serves: another process reads it (as the portal does)
    assert _count(home, "SELECT count(*) FROM core.persons") == persons
    assert versions.building(home)["pid"] == proc.pid
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert versions.live(home).id == before.id
    assert versions.building(home) is None                             # the kernel let go of the lock
    assert _count(home, "SELECT count(*) FROM core.persons") == persons
    assert _count(home, "SELECT count(*) FROM raw.batches WHERE file_name LIKE '%补充走访%'") == 0

    summary = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert summary.success and summary.published, summary.error
    assert [b[0] for b in summary.batches] == ["visits/补充走访.csv"]
    after = versions.live(home)
    assert after.id > killed.id and after.record["base"] == before.id
    record = versions.list_versions(home)
    gone = next(v for v in record if v.id == killed.id)
    assert gone.state == versions.FAILED and "中断" in gone.record["error"] and not gone.has_store


def test_a_build_whose_blocking_check_fails_is_not_published(world):
    home, inbox = world
    before = versions.live(home).id
    housing = sorted((inbox / "housing").glob("*.csv"))[0]
    header = housing.read_text(encoding="utf-8").splitlines()[0]
    # a house on a micro-grid the grids file does not have: core.houses' blocking rule house_orphan
    row = "000099990001,51010799999999901,四川省成都市武侯区玉林街道无名路1号1栋1单元1楼101室,无名小区,1,1,1,101,住宅,自住,王五,,2026/1/5"
    (inbox / "housing" / "错误网格的房屋.csv").write_text(header + "\n" + row + "\n", encoding="utf-8")
    summary = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert not summary.success and not summary.published
    assert versions.live(home).id == before
    assert "未发布" in summary.render() and f"继续使用版本 {before}" in summary.render()
    assert _count(home, "SELECT count(*) FROM raw.batches WHERE file_name LIKE '%错误网格%'") == 0
    # the file removed, the next run publishes
    (inbox / "housing" / "错误网格的房屋.csv").unlink()
    assert run_pipeline(home=home, inbox=inbox, as_of=AS_OF).published


def test_rollback_restores_the_previous_version_and_old_ones_are_pruned(world, monkeypatch, capsys):
    home, inbox = world
    monkeypatch.setenv("ONCEONLY_KEEP_VERSIONS", "2")
    first = versions.live(home).id
    batches = _count(home, "SELECT count(*) FROM raw.batches")
    _add_batch(inbox, "第二批走访.csv")
    second = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert second.published and _count(home, "SELECT count(*) FROM raw.batches") == batches + 1

    assert cli(["rollback", "--home", str(home)]) == 0
    assert f"当前数据版本 {first}" in capsys.readouterr().out
    assert versions.live(home).id == first
    assert _count(home, "SELECT count(*) FROM raw.batches") == batches
    index = home / "reports" / AS_OF.isoformat() / "index.html"
    assert index.stat().st_ino == (home / "versions" / first / "reports" / AS_OF.isoformat() / "index.html").stat().st_ino
    rolled = next(v for v in versions.list_versions(home) if v.id == second.version)
    assert rolled.state == versions.ROLLED_BACK and rolled.has_store
    assert cli(["runs", "--home", str(home)]) == 0
    listing = capsys.readouterr().out
    assert f"当前数据版本：{first}" in listing and "已回退" in listing
    with pytest.raises(versions.VersionError, match="之前没有保留的已发布版本"):
        versions.rollback(home)

    # the next run starts from the restored version, loads the file again, and pruning keeps two versions' data
    third = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert third.published and versions.live(home).record["base"] == first
    assert _count(home, "SELECT count(*) FROM raw.batches") == batches + 1
    kept = [v.id for v in versions.list_versions(home) if v.has_store]
    assert kept == [third.version, first]


def test_a_store_from_before_versions_is_taken_over_in_place(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with duckdb.connect(str(home / "store.duckdb")) as conn:
        conn.execute("CREATE TABLE t AS SELECT 42 AS x")
    reader = duckdb.connect(str(home / "store.duckdb"), read_only=True)   # the portal, reading it
    inode = (home / "store.duckdb").stat().st_ino
    v = versions.adopt_plain_store(home)
    assert v.id == "000001" and v.store.stat().st_ino == inode and store_path(home).is_symlink()
    assert reader.execute("SELECT x FROM t").fetchall() == [(42,)]
    reader.close()
    assert _count(home, "SELECT x FROM t") == 42


def _waive_workbook(path, issue_id: str) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "待处理"
    ws.append(["问题编号", "处理方式", "修正值", "原因"])
    ws.append([issue_id, "忽略", None, "核实无误"])
    wb.save(path)


def test_a_stewards_decision_made_during_a_build_goes_into_the_next_build(world, tmp_path):
    home, inbox = world
    issue = _count(home, "SELECT min(issue_id) FROM quality.issues WHERE status = 'open'")
    _waive_workbook(tmp_path / "waive.xlsx", issue)
    _add_batch(inbox, "第三批走访.csv")
    proc = _start_build(home, inbox)
    _wait_until_writing(home, proc)
    # the portal's way: validated on the live version read-only, kept in the home's database
    with Store(store_path(home)).connect(read_only=True) as conn:
        result = apply_workbook(conn, tmp_path / "waive.xlsx", by="shequ", home=home)
    assert len(result.accepted) == 1 and not result.refused
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    # the build that was running did not have it: it is still waiting, and shown as decided meanwhile
    assert _count(home, f"SELECT status FROM quality.issues WHERE issue_id = '{issue}'") == "open"
    assert [r[0] for r in pending.waiting(home)] and pending.waiting(home)[0][1] == issue
    with Store(store_path(home)).connect(read_only=True) as conn:
        again = apply_workbook(conn, tmp_path / "waive.xlsx", by="shequ", home=home)
    assert again.unchanged == 1 and not again.accepted
    summary = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert summary.published, summary.error
    assert _count(home, f"SELECT status FROM quality.issues WHERE issue_id = '{issue}'") == "waived"
    assert pending.waiting(home) == []
    assert _count(home, f"SELECT \"by\" FROM quality.corrections WHERE issue_id = '{issue}'") == "shequ"


def test_a_second_build_while_one_runs_is_refused_naming_it(world):
    home, inbox = world
    proc = _start_build(home, inbox)
    try:
        _wait_until_writing(home, proc)
        summary = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
        assert not summary.success and f"另一个运行正在更新数据（进程号 {proc.pid}" in summary.error, summary.error
    finally:
        proc.communicate(timeout=300)
    assert proc.returncode == 0
