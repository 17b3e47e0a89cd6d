"""What a run shows while it works (pipelines/progress.py), without running one: stages in order,
one line per stage off a terminal, a rich display on one, and the time left from the last run."""
from __future__ import annotations

import io
import json

from pipelines import progress as p


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_steps_map_to_stages_and_a_check_to_its_assets_stage():
    assert p.stage_of_step("raw__batches") == "reading"
    assert p.stage_of_step("core__houses_expectations_core_house_occupancy") == "linking"
    assert p.stage_of_step("department_reports") == "reports"
    assert p.stage_of_step("something_else") is None


def test_off_a_terminal_one_line_per_stage_and_the_times_kept_for_the_next_run(tmp_path):
    out = io.StringIO()
    times = tmp_path / p.STAGE_TIMES
    with p.TerminalProgress(times, stream=out) as run:
        for key in p.ORDER:
            run.stage(key)
            if key == "reading":
                run.files_found(2, 300)
                run.file_done("a.csv", 100, 10)
                run.file_done("b.csv", 200, 20)
            run.stage("reading")      # a late check of an earlier asset does not move the run back
        run.finish(True)
    lines = out.getvalue().splitlines()
    assert [line.split("] ")[1].split(" ")[0] for line in lines] == list(p.TITLES.values())
    assert "（2/2 个文件，已读 30 行）" in lines[0] and lines[0][2] == ":" and "[1/6]" in lines[0]
    kept = json.loads(times.read_text(encoding="utf-8"))
    assert set(kept["seconds"]) == set(p.ORDER) and kept["rows"] == 30 and kept["read_bytes"] == 300


def test_the_time_left_comes_from_the_last_run_scaled_by_the_rows(tmp_path):
    times = tmp_path / p.STAGE_TIMES
    times.write_text(json.dumps({"seconds": {k: 10.0 for k in p.ORDER}, "rows": 1000, "read_bytes": 100}))
    first = p.Progress(None)
    first.stage("reading")
    assert first.remaining() is None                         # nothing to go by
    run = p.Progress(times)
    run.stage("reading")
    run.files_found(1, 100)
    run.file_done("a.csv", 100, 1000)                       # the store doubles
    run.stage("staging")
    left = run.remaining()
    assert 95 < left <= 100                                  # five stages of 20 s, one just begun
    run.finish(True)
    assert run.remaining() == 0.0


def test_on_a_terminal_a_live_display_with_each_stage():
    out = Tty()
    with p.TerminalProgress(None, stream=out, title="onceonly run") as run:
        run.stage("reading")
        run.files_found(3, 300)
        run.file_done("a.csv", 100, 7)
        run._live.refresh()
        run.stage("staging")
        run.finish(True)
    screen = out.getvalue()
    assert "onceonly run" in screen and "读取文件" in screen and "1/3 个文件，已读 7 行" in screen
    assert "完成，共用时" in screen


def test_districts_end_in_the_slots_they_run_in():
    assert p._wall_clock([10, 20], [30, 5], 2) == 40
    assert p._wall_clock([], [10, 10, 10], 2) == 20
    assert p._wall_clock([5], [None], 2) is None
    out = io.StringIO()
    with p.DistrictsDisplay(["510104"], lambda code: "/nonexistent", stream=out) as display:
        display.district_done("510104", "  ✓ 510104 锦江区：成功")
    assert out.getvalue() == "  ✓ 510104 锦江区：成功\n"
