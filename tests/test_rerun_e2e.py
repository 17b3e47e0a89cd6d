"""A small street with every kind of broken file beside it, run through the whole graph: the first
run's steward queue is already complete (the rules that read statuses included), a second run leaves
the store and the queue exactly as they were, and a run killed (kill -9) in any stage and run again
ends where an uninterrupted run does — nothing lost, nothing doubled."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines import demo
from pipelines.progress import ORDER, STAGE_TIMES, TITLES
from pipelines.runner import run_pipeline
from pipelines.store import Store
from tests.ingest.conftest import RESIDENT_HEADER, resident, write_csv
from tests.ingest.corpus import valid_id, write_corpus

AS_OF = dt.date(2026, 10, 31)
REPO = Path(__file__).parents[1]
# Tables a rerun of the same inbox must leave identical (lineage, decisions, outputs, the queue).
KEPT = ("raw.batches EXCLUDE (loaded_at, loaded_on)", "raw.row_errors", "raw.inbox_files", "raw.residents",
        "staging.residents", "core.persons", "core.person_links", "core.person_status", "marts.grid_population",
        "marts.person_sources", "quality.issues EXCLUDE (built_at)", "quality.expectation_failures EXCLUDE (run_at)")
# What a run keeps whatever order its batches were numbered in (a killed load numbers the rest later).
CONTENT = {
    "batches": "SELECT batch_id, file_name, status, message, rows_read, rows_loaded, rows_rejected FROM raw.batches",
    "row_errors": "SELECT * FROM raw.row_errors",
    "inbox_files": "SELECT * EXCLUDE (message), regexp_replace(message, '#[0-9]+', '#N') FROM raw.inbox_files",
    "sources": "SELECT 来源, 批次, 行号, 记录编号, 状态, 人员主键 IS NULL FROM marts.person_sources",
    "grid_population": "SELECT * FROM marts.grid_population",
    "statuses": "SELECT status, category, count(*) FROM core.person_status GROUP BY ALL",
    "persons": "SELECT count(*), count(id_number) FROM core.persons",
    "issues": "SELECT rule, severity, template, batch_id, row_no, field, value, status, "
              "regexp_replace(message, '#[0-9]+', '#N') FROM quality.issues",
}


def street_inbox(root: Path) -> Path:
    """The demo street at 2,000 persons, 14 people living in one of its flats, and the corpus."""
    inbox = root / "inbox"
    demo.generate(inbox, root / "truth", persons=2000, seed=11, as_of=AS_OF)
    # the demo's housing files head their columns in each platform's own words (房屋编码, 房屋代码, …) and one is
    # GBK; in every one the first column is the code
    house = pl.read_csv(sorted((inbox / "housing").glob("*.csv"))[0], infer_schema=False).to_series(0)[0]
    crowd = [resident(900 + i, name=f"群租{i}", id_number=valid_id(f"51010719850101{i:03d}"), 房屋编码=house,
                      collected="2026-09-01") for i in range(14)]
    write_csv(inbox / "residents" / "群租房.csv", RESIDENT_HEADER, crowd)
    write_corpus(inbox)
    return inbox


def snapshot(home: Path) -> dict[str, list]:
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        return {t: conn.execute(f"SELECT * {t[t.index(' '):] if ' ' in t else ''} FROM {t.split(' ')[0]} ORDER BY ALL")
                .fetchall() for t in KEPT}


def content(home: Path) -> dict[str, list]:
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        return {k: sorted(conn.execute(q).fetchall(), key=repr) for k, q in CONTENT.items()}


def run(inbox: Path, home: Path):
    return run_pipeline(home=home, inbox=inbox, as_of=AS_OF, instance=dg.DagsterInstance.ephemeral())


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("street")
    inbox = street_inbox(root)
    home = root / "home"
    first = run(inbox, home)
    assert first.success, first.error
    return {"inbox": inbox, "home": home, "snapshot": snapshot(home), "content": content(home)}


@pytest.mark.slow
def test_the_first_run_finds_everything_and_a_rerun_changes_nothing(clean):
    once = clean["snapshot"]
    rules = {r[1] for r in once["quality.issues EXCLUDE (built_at)"]}
    assert {"house_overcrowded", "house_unknown", "quote_broken", "cell_error", "control_char"} <= rules
    second = run(clean["inbox"], clean["home"])
    assert second.success and second.batches == []
    twice = snapshot(clean["home"])
    for table in KEPT:
        assert twice[table] == once[table], table


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["linking", "status", "quality", "reports"])
def test_a_run_killed_in_any_stage_then_run_again_ends_as_an_uninterrupted_one(clean, tmp_path, stage):
    """`onceonly run` writes one line as each stage ends; the kill lands halfway through the stage after
    it, by the clean run's time for that stage (stage_times.json)."""
    before = ORDER[ORDER.index(stage) - 1]
    stage_line = f"[{ORDER.index(before) + 1}/{len(ORDER)}] {TITLES[before]} 完成"
    halfway = json.loads((clean["home"] / STAGE_TIMES).read_text(encoding="utf-8"))["seconds"][stage] / 2
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--inbox", str(clean["inbox"]),
                             "--home", str(home), "--as-of", AS_OF.isoformat()],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
                            env={**os.environ, "DAGSTER_HOME": ""})
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if stage_line in line:
            time.sleep(halfway)
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, seen
    again = run(clean["inbox"], home)
    assert again.success, again.error
    assert content(home) == clean["content"]


def cli_run(inbox: Path, home: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--inbox", str(inbox), "--home", str(home),
                             "--as-of", AS_OF.isoformat()], cwd=REPO, env={**os.environ, "DAGSTER_HOME": ""}, **popen)


@pytest.mark.slow
def test_a_run_written_to_a_file_has_one_line_per_stage_and_no_english_log_line(clean, tmp_path):
    proc = cli_run(clean["inbox"], tmp_path / "home", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    stages = [line for line in lines if " 完成，用时 " in line]
    assert [line.split("] ")[1].split(" ")[0] for line in stages] == list(TITLES.values())
    assert all(line[:9].count(":") == 2 and f"[{i}/6]" in line for i, line in enumerate(stages, start=1))
    assert "dagster" not in out + err and "WARNING" not in out + err and "Traceback" not in err
    assert err.strip() == ""
    # every file not loaded is named once, with its reason; the folders once, their files not again
    assert sum("residents/加密.xlsx" in line for line in lines) == 1
    assert any("residents/加密.xlsx：整个文件被拒收 — 无法读取：工作簿设有打开密码" in line for line in lines)
    assert sum("residents/原始_副本.csv" in line for line in lines) == 1
    assert sum("居民/" in line for line in lines) == 1 and "居民/a.csv" not in out
    assert "另有 " in out and "个隐藏文件或临时文件未读取" in out


@pytest.mark.slow
def test_a_run_on_a_terminal_shows_stages_counts_and_time_left(clean, tmp_path):
    """The live display, read from a pseudo-terminal: the last finished run's stage times give the time left."""
    import fcntl
    import pty
    import shutil
    import struct
    import termios

    home = tmp_path / "home"
    shutil.copytree(clean["home"], home)
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = cli_run(clean["inbox"], home, stdin=child, stdout=child, stderr=child)
    os.close(child)
    screen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    proc.wait()
    text = screen.decode("utf-8", errors="replace")
    assert proc.returncode == 0, text[-2000:]
    assert "▶" in text and all(title in text for title in TITLES.values())
    assert "个文件，已读" in text and "预计剩余 约" in text and "完成，共用时" in text
    assert "收件箱共" in text and "dagster" not in text
