"""The run report (运行报告) beside each run's reports: a small street with a refused file, a file that is not read
and bad rows names each with why; a second run shows what changed since the first; index.html and every report's
note link it and the link resolves; the same as-of renders the same bytes."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from pipelines import demo, versions
from pipelines.reports.run_report import HTML_NAME, XLSX_NAME
from pipelines.runner import run_pipeline
from pipelines.store import Store
from tests.ingest.conftest import RESIDENT_HEADER, resident, write_csv
from tests.ingest.corpus import valid_id

AS_OF = dt.date(2026, 10, 31)
BAD_ID = valid_id("51010719850101777")      # written with a control character after it: the row is refused


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href"]


def links(path: Path) -> list[str]:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p.hrefs


def text(path: Path) -> str:
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("run-report")
    inbox = root / "inbox"
    demo.generate(inbox, root / "truth", persons=300, seed=5, as_of=AS_OF)
    # a refused file (no 公民身份号码 column), a file that is not a table, and rows with bad cells
    write_csv(inbox / "residents" / "缺列.csv", ["记录编号", "姓名", "房屋编码"], [["X1", "王五", "H001"]])
    (inbox / "residents" / "说明.txt").write_text("这是说明，不是表格。", encoding="utf-8")
    write_csv(inbox / "residents" / "坏行.csv", RESIDENT_HEADER, [
        resident(801, name="赵六", id_number=BAD_ID + "\x07", collected="2026-09-01"),
        resident(802, name="钱七", id_number=valid_id("51010719850101778"), birth="2024-02-30", collected="2026-09-01"),
    ])
    home = root / "home"
    first = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert first.success and first.published, first.error
    first_dir = root / "first"
    shutil.copytree(home / "reports" / AS_OF.isoformat(), first_dir)
    # the second month: new residents in a flat of the street
    house = Store(home / "store.duckdb")
    with house.connect(read_only=True) as conn:
        code = conn.execute("SELECT min(house_code) FROM core.houses").fetchall()[0][0]
    write_csv(inbox / "residents" / "新登记.csv", RESIDENT_HEADER, [
        resident(900 + i, name=f"新来{i}", id_number=valid_id(f"51010719900101{i:03d}"), 房屋编码=code,
                 collected="2026-10-20") for i in range(3)])
    second = run_pipeline(home=home, inbox=inbox, as_of=AS_OF)
    assert second.success and second.published, second.error
    return {"home": home, "first": first_dir, "second": home / "reports" / AS_OF.isoformat(),
            "versions": (first.version, second.version)}


def test_the_run_report_names_every_refused_or_unread_file_and_bad_row(two_runs):
    page = text(two_runs["first"] / HTML_NAME)
    assert "运行报告" in page
    line = re.search(r"residents/缺列\.csv[^\n]*", page)[0]
    assert "整份拒收" in line and "缺少必填列" in line and "采集日期" in line
    assert re.search(r"residents/说明\.txt\s+\S+\s+未读取", page)
    assert "坏行.csv" in page
    assert re.search(r"residents/坏行\.csv\s+2\s+R801\s+公民身份号码\s+含不可见控制字符", page), "row 2: 赵六's ID"
    assert re.search(r"residents/坏行\.csv\s+3\s+R802\s+出生日期\s+日期无效[^\n]*2024-02-30", page)
    assert BAD_ID not in page and BAD_ID[:6] + "********" + BAD_ID[-4:] in page
    assert "这是第一个数据版本" in page
    # the workbook lists the same
    wb = openpyxl.load_workbook(two_runs["first"] / XLSX_NAME)
    cells = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert "缺列.csv" in cells and "说明.txt" in cells and "2024-02-30" in cells and BAD_ID not in cells


def test_a_second_run_shows_what_changed_since_the_first(two_runs):
    first, second = two_runs["versions"]
    page = text(two_runs["second"] / HTML_NAME)
    assert f"上一版本 {first}" in page and second in page
    assert re.search(r"residents/新登记\.csv\s+\S+\s+已导入", page)
    assert re.search(r"residents/缺列\.csv\s+\S+\s+整份拒收（此前已拒收）", page)
    with Store(two_runs["home"] / "store.duckdb").connect(read_only=True) as conn:
        new, total = conn.execute("SELECT sum(persons_new), sum(registered_now) - sum(registered_before) "
                                  "FROM marts.run_changes").fetchall()[0]
        assert new == 3 and total == 3
        assert conn.execute("SELECT sum(persons) FROM marts.run_transitions "
                            "WHERE status_before = '（上一版本无此人）'").fetchall()[0][0] == 3
    assert "新增人员" in page


def test_index_and_every_report_note_link_the_run_report(two_runs):
    folder = two_runs["second"]
    assert HTML_NAME in links(folder / "index.html") and XLSX_NAME in links(folder / "index.html")
    reports = [p for p in folder.glob("*.html") if p.name not in ("index.html", HTML_NAME)]
    from pipelines.reports import FAMILIES

    assert sorted(p.stem for p in reports) == sorted(FAMILIES)
    for p in reports:
        assert HTML_NAME in links(p), p.name
        assert (folder / HTML_NAME).exists()        # the link resolves beside it
        wb = openpyxl.load_workbook(p.with_suffix(".xlsx"))
        notes = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert any(f"见运行报告 {HTML_NAME}" in n for n in notes), p.name


def test_the_same_version_renders_the_same_bytes(two_runs, tmp_path):
    from pipelines.reports.run_report import write_run_report

    folder = two_runs["second"]
    with Store(two_runs["home"] / "store.duckdb").connect(read_only=True) as conn:
        write_run_report(conn, tmp_path)
    for name in (HTML_NAME, XLSX_NAME):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    live = versions.live(two_runs["home"])
    assert (live.dir / "reports" / AS_OF.isoformat() / HTML_NAME).exists()


def test_a_previous_version_written_before_the_marts_is_named_not_compared(two_runs, tmp_path):
    from pipelines.reports.run_report import build_tables, write_run_report

    live = versions.live(two_runs["home"])
    old, now = tmp_path / "old.duckdb", tmp_path / "now.duckdb"
    shutil.copyfile(live.store, old)
    shutil.copyfile(live.store, now)
    with Store(old).connect() as conn:
        conn.execute("DROP TABLE marts.persons")
    out = tmp_path / "out"
    out.mkdir()
    with Store(now).connect() as conn:
        build_tables(conn, as_of=AS_OF, version="v-now", previous=old, base_version="v-old")
        assert conn.execute("SELECT has_base, earlier_version FROM marts.run_meta").fetchall() == [(False, "v-old")]
        # its files are still known: the same batches were read before, none by this run
        new, known = conn.execute("SELECT count(*) FILTER (WHERE new_batch), count(*) FILTER (WHERE batch_id IS NOT "
                                  "NULL) FROM marts.run_files").fetchall()[0]
        assert (new, known > 0) == (0, True)
        assert conn.execute("SELECT sum(files_new) FROM marts.run_sources").fetchall()[0][0] == 0
        write_run_report(conn, out)
    page = text(out / HTML_NAME)
    assert "上一版本 v-old 由较早版本的 onceonly 写成，不作比较。" in page and "与上一版本相比的变化" in page
    assert "新增人员" not in page and "此前已导入" in page
    header = openpyxl.load_workbook(out / XLSX_NAME).worksheets[0]["A2"].value
    assert "上一版本：v-old（由较早版本的 onceonly 写成，不作比较）" in header
