"""The loop closed on the demo street, through the real pipeline: the first month's run gives grid workers their
verification tasks and the police their feedback list; the second month's visits (pipelines/demo/followup.py)
close exactly the tasks they resolve, by those visit records, and 登记人口 − 实有人口 shrinks per grid by the
persons found living there. The task history survives reruns, and the past month reproduces byte for byte."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main as cli
from pipelines.demo import followup
from pipelines.runner import run_pipeline
from pipelines.store import Store

D1, D2 = dt.date(2026, 10, 31), dt.date(2026, 11, 30)
RESOLVING = ("在住", "已搬离", "人户分离", "查无此人", "已死亡")


def _read(home: Path, sql: str, params=None) -> list[dict]:
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        cur = conn.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def _extract(home: Path, out: Path, name: str, as_of: dt.date, *extra: str) -> list[list[str]]:
    assert cli(["extract", name, "--format", "csv", "--out", str(out), "--as-of", as_of.isoformat(),
                "--home", str(home), *extra]) == 0
    with out.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture(scope="module")
def months(demo_world, tmp_path_factory):
    """A copy of the demo's first month, then its second month: the visits file delivered into the inbox and
    `onceonly run --as-of 2026-11-30`."""
    root = tmp_path_factory.mktemp("months")
    home, inbox = root / "home", root / "inbox"
    shutil.copytree(demo_world["home"], home)
    shutil.copytree(demo_world["inbox"], inbox)
    truth = demo_world["truth"]
    october = _extract(home, root / "verification-october.csv", "verification-tasks", D1)
    meta = followup.deliver(inbox, truth)
    assert meta["as_of"] == D2.isoformat() and meta["task_visits"] > 0
    summary = run_pipeline(home=home, inbox=inbox, as_of=D2, instance=dg.DagsterInstance.ephemeral())
    assert summary.success, summary.error
    [batch] = _read(home, "SELECT batch_id FROM raw.batches WHERE file_name = ?", [meta["files"][0]])
    return {"home": home, "inbox": inbox, "truth": truth, "meta": meta, "root": root, "october": october,
            "batch": batch["batch_id"]}


def _one_open_task_per_unverified(home: Path) -> None:
    unverified = {r["person_key"] for r in _read(
        home, "SELECT person_key FROM core.person_status WHERE status = '待核实' AND house_code IS NOT NULL")}
    open_ = _read(home, "SELECT person_key, count(*) AS n FROM marts.tasks "
                        "WHERE kind = 'verify' AND state = 'open' GROUP BY person_key")
    assert unverified and {r["person_key"] for r in open_} == unverified
    assert all(r["n"] == 1 for r in open_)
    listed = [r["人员主键"] for r in _read(home, "SELECT 人员主键 FROM marts.verification_tasks")]
    assert sorted(listed) == sorted(unverified)


def _feedback_is_exactly_the_registered_who_left(home: Path) -> None:
    gone = {r["person_key"] for r in _read(
        home, "SELECT person_key FROM core.person_status WHERE registered AND status = '已离开'")}
    listed = [r["人员主键"] for r in _read(home, "SELECT 人员主键 FROM marts.deregistration_feedback")]
    assert gone and sorted(listed) == sorted(gone)
    advice = {r["建议"] for r in _read(home, "SELECT DISTINCT 建议 FROM marts.deregistration_feedback")}
    assert advice <= {"核查注销户籍", "核查注销流动人口登记", "核查注销户籍;核查注销流动人口登记"}


def test_first_month_every_unverified_person_with_a_house_has_exactly_one_open_task(demo_world):
    _one_open_task_per_unverified(demo_world["home"])
    _feedback_is_exactly_the_registered_who_left(demo_world["home"])
    # some of them still live there (the demo leaves stale residents unvisited), most are gone
    results = followup.meta(demo_world["truth"])["results"]
    assert 0 < results["在住"] < results["已搬离"] + results["查无此人"]


def test_second_month_every_unverified_person_still_has_exactly_one_open_task(months):
    _one_open_task_per_unverified(months["home"])
    _feedback_is_exactly_the_registered_who_left(months["home"])


def test_the_visits_close_the_tasks_they_resolve_by_those_records_and_no_others(months, demo_world):
    home, batch = months["home"], months["batch"]
    before = {r["task_id"]: r for r in _read(
        demo_world["home"], "SELECT * FROM marts.tasks WHERE kind = 'verify' AND state = 'open'")}
    visits = _read(home, """
        SELECT v.row_no, v.house_code, v.visit_result, l.person_key
        FROM staging.visits v
        JOIN raw.batches b USING (batch_id)
        JOIN core.person_links l ON l.record_id = record_id(b.batch_no, v.row_no)
        WHERE v.batch_id = ?""", [batch])
    assert len(visits) == months["meta"]["visits"]
    resolving = {(v["person_key"], v["house_code"]): v for v in visits if v["visit_result"] in RESOLVING}
    expected = {tid for tid, t in before.items() if (t["person_key"], t["house_code"]) in resolving}
    assert len(expected) == months["meta"]["task_visits"]

    closed = {r["task_id"]: r for r in _read(
        home, "SELECT * FROM marts.tasks WHERE kind = 'verify' AND state = 'closed' AND closed_on = ?", [D2])}
    assert set(closed) == expected
    for tid, t in closed.items():
        visit = resolving[(t["person_key"], t["house_code"])]
        assert (t["closing_batch_id"], t["closing_row_no"]) == (batch, visit["row_no"])
        assert t["resolution"] == ("核实在住" if visit["visit_result"] == "在住" else "已离开")
        assert t["opened_on"] == D1 and 0 < t["days"] <= 30
    # the rest of October's tasks are still open, under the same ids and dates
    still = {r["task_id"]: r for r in _read(home, "SELECT * FROM marts.tasks WHERE kind = 'verify' AND state = 'open'")}
    assert set(before) - expected <= set(still)
    assert all(still[t]["opened_on"] == D1 for t in set(before) - expected)
    # nothing else closed on D2 but by a record of that file
    others = _read(home, "SELECT * FROM marts.tasks WHERE state = 'closed' AND closed_on = ? AND kind <> 'verify'", [D2])
    assert all(r["closing_batch_id"] == batch for r in others)
    results = {t["resolution"] for t in closed.values()}
    assert results == {"核实在住", "已离开"}


def test_the_gap_per_grid_shrinks_by_the_persons_found_living_there(months, demo_world):
    home = months["home"]
    gaps = {}
    for r in _read(home, """SELECT as_of, grid_code, registered, verified FROM core.grid_history
                            QUALIFY built_at = max(built_at) OVER (PARTITION BY as_of)"""):
        gaps.setdefault(r["as_of"], {})[r["grid_code"]] = (r["registered"], r["verified"])
    assert set(gaps) == {D1, D2}
    found: dict[str, int] = {}
    for r in _read(home, """
            SELECT t.grid_code FROM marts.tasks t JOIN core.person_status s USING (person_key)
            WHERE t.kind = 'verify' AND t.closed_on = ? AND t.resolution = '核实在住' AND s.registered""", [D2]):
        found[r["grid_code"]] = found.get(r["grid_code"], 0) + 1
    assert sum(found.values()) > 0
    # who counts in 登记人口 did not change (visits never change it); the month's calendar moved nobody out of
    # 实有人口 (the grid workers' routine visits kept up); so the gap moved by the persons found living there
    before = {r["person_key"]: r for r in _read(demo_world["home"], "SELECT * FROM core.person_status")}
    after = {r["person_key"]: r for r in _read(home, "SELECT * FROM core.person_status")}
    aged = [k for k, s in before.items() if s["status"] == "在住" and after[k]["status"] != "在住"]
    assert aged == []
    for grid, (reg2, ver2) in gaps[D2].items():
        reg1, ver1 = gaps[D1][grid]
        assert reg2 == reg1, grid
        assert (reg2 - ver2) == (reg1 - ver1) - found.get(grid, 0), grid
    shrunk = [g for g in gaps[D2] if found.get(g)]
    assert len(shrunk) >= len(gaps[D2]) - 2
    # those found gone moved to the police's list
    gone = {r["person_key"] for r in _read(home, "SELECT t.person_key FROM marts.tasks t JOIN core.person_status s "
                                                 "USING (person_key) WHERE t.kind = 'verify' AND t.closed_on = ? "
                                                 "AND t.resolution = '已离开' AND s.registered", [D2])}
    feedback = {r["人员主键"] for r in _read(home, "SELECT 人员主键 FROM marts.deregistration_feedback")}
    assert gone and gone <= feedback


def test_demo_check_scores_the_second_month_and_reports_the_gap_before_and_after(months, capsys):
    code = cli(["demo", "--check", "--out", str(months["inbox"]), "--truth", str(months["truth"]),
                "--as-of", D2.isoformat(), "--home", str(months["home"])])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "上期 2026-10-31 → 本期 2026-11-30" in out
    total = next(line for line in out.splitlines() if line.startswith("合计")).split("\t")
    before, after, change = int(total[1]), int(total[2]), int(total[3])
    assert after < before and change == after - before
    t_before, t_after = (int(x) for x in total[5].split("→"))
    assert t_after - t_before == change          # the store moved exactly as the truth did


def test_progress_chart_renders_in_html_and_xlsx(months, tmp_path):
    from pipelines.reports import render_report
    from pipelines.reports.chart import cjk_font

    if cjk_font() is None:
        pytest.fail("no Chinese font for the chart: install fonts-noto-cjk (.ci/run does)")
    with Store(months["home"] / "store.duckdb").connect() as conn:
        html, xlsx = render_report(conn, "grid-standards", out_dir=tmp_path, as_of=D2, home=tmp_path)
    page = html.read_text(encoding="utf-8")
    assert "<h2>走访核查进度</h2>" in page
    figure = page[page.index('<figure class="chart">'):]
    assert figure.index("<svg") < figure.index("</svg>") < figure.index("</figure>")
    with zipfile.ZipFile(xlsx) as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
    assert len(media) == 1
    # the workbook as it prints: LibreOffice lays it out, the progress sheet's last page carries the picture
    if shutil.which("soffice") is None or shutil.which("pdfimages") is None:
        pytest.fail("LibreOffice and poppler-utils are needed to print the workbook (.ci/run installs them)")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(xlsx)], check=True, capture_output=True, timeout=180)
    pdf = xlsx.with_suffix(".pdf")
    images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = sorted({line.split()[0] for line in images.splitlines()[2:] if line.strip()})   # the image, its alpha mask
    assert len(pages) == 1
    text = subprocess.run(["pdftotext", "-f", pages[0], "-l", pages[0], str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "走访核查进度" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", pages[0], "-l", pages[0], str(pdf), str(tmp_path / "p")],
                   check=True)
    from PIL import Image

    png = next(tmp_path.glob("p*.png"))
    colours = Image.open(png).convert("RGB").getcolors(1 << 20)
    bars = sum(n for n, (r, g, b) in colours if abs(r - 0x2F) < 40 and abs(g - 0x6F) < 40 and abs(b - 0xB0) < 40)
    assert bars > 500, "the chart's bars are not on the printed page"


def test_task_workbooks_for_a_community_one_sheet_per_worker_in_building_order(months, tmp_path):
    import openpyxl

    from pipelines.publish.task_workbook import write_task_workbooks

    with Store(months["home"] / "store.duckdb").connect() as conn:
        books = write_task_workbooks(conn, out_dir=tmp_path, as_of=D2, home=tmp_path, dept="社区", scope="芳草社区",
                                     user="t")
        workers = dict(conn.execute("SELECT grid_code, count(DISTINCT grid_worker) FROM core.grids "
                                    "GROUP BY grid_code").fetchall())
        open_by_grid = dict(conn.execute("SELECT grid_code, count(*) FROM marts.tasks WHERE kind = 'verify' "
                                         "AND state = 'open' GROUP BY grid_code").fetchall())
    assert books and all(b.grid_name.startswith("芳草社区") for b in books)
    for b in books:
        assert b.tasks == open_by_grid[b.grid_code] and len(b.sheets) == workers[b.grid_code]
        wb = openpyxl.load_workbook(b.path)
        ws = wb.worksheets[0]
        head = [c.value for c in ws[4]]
        assert head[:8] == ["序号", "小区", "楼栋", "单元", "房号", "房屋编码", "姓名", "公民身份号码"]
        assert ws.print_title_rows == "$4:$4" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.orientation == "landscape" and ws["B5"].font.name == "宋体"
        body = list(ws.iter_rows(min_row=5, values_only=True))
        assert all(r[7] is None or "********" in r[7] for r in body)          # 社区's grant: IDs masked
        order = [(r[1], int("".join(filter(str.isdigit, r[2] or "0")) or 0),
                  int("".join(filter(str.isdigit, r[3] or "0")) or 0), int(r[4] or 0)) for r in body]
        assert order == sorted(order)
    # the same date gives the same bytes
    again = tmp_path / "again"
    with Store(months["home"] / "store.duckdb").connect() as conn:
        second = write_task_workbooks(conn, out_dir=again, as_of=D2, home=tmp_path, dept="社区", scope="芳草社区",
                                      user="t")
    assert [p.path.read_bytes() for p in books] == [p.path.read_bytes() for p in second]


def test_november_population_changes_reconcile_with_both_months_and_show_the_visits(months, demo_world, tmp_path):
    """人口变动月报 for November (as of 2026-11-30): per grid 期初 is October's 实有人口 (as October's build published
    it, and as November's store re-decides it for 2026-10-31), 期末 November's, 期末 = 期初 + 增加 − 减少, and the
    visits' findings are its changes, each citing the visit."""
    from pipelines.cli import ensure_as_of
    from tests.reports.test_population_changes import assert_reconciles, changes, stock

    path = tmp_path / "store.duckdb"
    shutil.copy(months["home"] / "store.duckdb", path)
    with Store(demo_world["home"] / "store.duckdb").connect(read_only=True) as conn:
        october = stock(conn)
    with Store(path).connect() as conn:
        report = changes(conn, tmp_path / "out", D2)
        cited = dict(conn.execute("SELECT 变动类型, list(DISTINCT 来源) FROM r_chg_list WHERE _list = 'status' "
                                  "GROUP BY ALL").fetchall())
        end = stock(conn)
        ensure_as_of(conn, D1)
        start = stock(conn)
    assert_reconciles(report, start, end)
    assert start == october
    assert "走访记录" in cited["待核实→在住"] and "走访记录" in cited["待核实→已离开"], cited
    verified = sum(r["待核实转在住"] for r in report["grid"].values())
    assert verified >= months["meta"]["results"].get("在住", 1), (verified, months["meta"]["results"])


def test_task_history_survives_reruns_and_the_past_month_reproduces(months):
    home, inbox = months["home"], months["inbox"]
    ledger_sql = "SELECT * EXCLUDE (built_at) FROM core.task_log ORDER BY as_of, built_at, task_id"
    kept = _read(home, ledger_sql)
    assert {r["as_of"] for r in kept} == {D1, D2}
    for as_of in (D2, D1):                    # the newest month again, then the past one
        summary = run_pipeline(home=home, inbox=inbox, as_of=as_of, instance=dg.DagsterInstance.ephemeral())
        assert summary.success, summary.error
        assert _read(home, ledger_sql) == kept
    # October's list, rebuilt after November's visits were loaded, is what October's run gave: the same persons,
    # houses, task ids, opening dates and reasons. (姓名 is the person's golden name, chosen from all their records
    # whatever their date: November's visit may spell it better.)
    again = _extract(home, months["root"] / "verification-again.csv", "verification-tasks", D1)
    name = again[0].index("姓名")
    assert again[0] == months["october"][0]
    assert [r[:name] + r[name + 1:] for r in again] == [r[:name] + r[name + 1:] for r in months["october"]]
    summary = run_pipeline(home=home, inbox=inbox, as_of=D2, instance=dg.DagsterInstance.ephemeral())
    assert summary.success and _read(home, ledger_sql) == kept
