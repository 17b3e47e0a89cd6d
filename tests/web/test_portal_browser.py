"""The portal in a real browser: the system's Chromium (Debian package, /usr/bin/chromium) driven by
Playwright, against uvicorn on loopback. Takes screenshots of the main pages: into the test's own folder, or
with ONCEONLY_SCREENSHOTS=docs into docs/screenshots/ (only on a machine with Chinese fonts: without them every
character is a box, and a plain `make test` must not change the docs)."""
from __future__ import annotations

import concurrent.futures
import os
import re
import time
from pathlib import Path

import httpx
import pytest

from pipelines.paths import REPO_ROOT
from tests.web.portal_world import PASSWORD, issue_status

CHROMIUM = Path("/usr/bin/chromium")


def _shots(tmp_path: Path) -> Path:
    return REPO_ROOT / "docs" / "screenshots" if os.environ.get("ONCEONLY_SCREENSHOTS") == "docs" else tmp_path / "shots"


@pytest.mark.slow   # a load test: 200 requests through a live server
def test_200_concurrent_requests_on_loopback(live_server):
    with httpx.Client(base_url=live_server, follow_redirects=False) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"csrf": token, "username": "jiedao", "password": PASSWORD})
        assert r.status_code == 303
        cookies = dict(c.cookies)
    paths = ["/", "/queue", "/runs", "/scorecard", "/reports", "/extracts", "/login", "/static/portal.css"]

    def hit(i: int) -> int:
        with httpx.Client(base_url=live_server, cookies=cookies, follow_redirects=False, timeout=60) as c:
            return c.get(paths[i % len(paths)]).status_code

    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(hit, range(200)))
    elapsed = time.time() - start
    print(f"200 concurrent requests in {elapsed:.1f}s")
    bad = [c for c in codes if c not in (200, 303)]
    assert not bad, bad
    assert codes.count(200) >= 175        # /login redirects a logged-in user (303)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("系统未安装 Chromium（apt-get install -y chromium）；不下载浏览器")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox"] if os.geteuid() == 0 else [])
        yield b
        b.close()


def _login(browser, live_server, user):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 860}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    return ctx, page


@pytest.mark.slow   # a browser journey through every role
def test_each_role_does_its_job_in_the_browser(browser, live_server, portal_home, tmp_path):
    shots = _shots(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1360, "height": 860})
    page.goto(f"{live_server}/login")
    page.screenshot(path=str(shots / "login.png"))
    page.close()

    # street office: home, a report previewed and downloaded, run status
    ctx, page = _login(browser, live_server, "jiedao")
    assert "待处理的数据问题" in page.content()
    page.screenshot(path=str(shots / "home-street.png"))
    page.goto(f"{live_server}/reports?name=population-monthly")
    page.frame_locator("iframe.report").locator("h1").wait_for()
    page.screenshot(path=str(shots / "reports.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("text=下载 Excel")
    saved = tmp_path / "report.xlsx"
    dl.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK" and dl.value.suggested_filename.endswith(".xlsx")
    page.goto(f"{live_server}/runs")
    page.screenshot(path=str(shots / "runs.png"), full_page=True)
    page.goto(f"{live_server}/scorecard")
    page.screenshot(path=str(shots / "scorecard.png"), full_page=True)
    ctx.close()

    # community steward: fixes one item inline, with a reason
    ctx, page = _login(browser, live_server, "shequ")
    page.goto(f"{live_server}/queue")
    page.screenshot(path=str(shots / "queue.png"), full_page=True)
    row = page.locator("tr", has_text="R-X4")
    row.locator("input[name=value]").fill("1985-06-30")
    row.locator("input[name=reason]").fill("核对身份证原件")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    assert "已修正" in page.locator(".flash.ok").inner_text()
    assert issue_status(portal_home, "R-X4") == "fixed"
    ctx.close()

    # department analyst: its extracts only, downloads one
    ctx, page = _login(browser, live_server, "minzheng")
    page.goto(f"{live_server}/extracts")
    assert "救助对象核查表" in page.content() and "适龄儿童名单" not in page.content()
    page.screenshot(path=str(shots / "extracts.png"), full_page=True)
    with page.expect_download() as dl:
        page.locator("tr", has_text="救助对象核查表").locator("button[type=submit]").click()
    assert dl.value.suggested_filename.endswith(".xlsx")      # a person downloading gets a workbook by default
    ctx.close()

    # 教育 is refused a page outside its grant, and sees why
    ctx, page = _login(browser, live_server, "jiaoyu")
    resp = page.goto(f"{live_server}/reports?name=assistance-check")
    assert resp.status == 403
    assert "无权获取报表" in page.content() and "周九" not in page.content()
    page.screenshot(path=str(shots / "refused.png"))
    resp = page.goto(f"{live_server}/queue")
    assert resp.status == 403
    ctx.close()


def test_a_reports_person_list_is_one_click_from_the_reports_page(browser, live_server, tmp_path):
    ctx, page = _login(browser, live_server, "jiedao")
    page.goto(f"{live_server}/reports?name=elderly-80plus")
    link = page.locator("p.lists a", has_text="高龄老人名单")
    assert link.count() == 1
    with page.expect_download() as dl:
        link.click()
    saved = tmp_path / "list.csv"
    dl.value.save_as(saved)
    assert dl.value.suggested_filename == "高龄（80岁以上）老人名单_高龄老人名单_2026-10-31.csv"
    assert saved.read_bytes().startswith("\ufeff".encode("utf-8")) and "李老" in saved.read_text(encoding="utf-8-sig")
    ctx.close()


@pytest.mark.slow   # a browser journey, printed to PDF
def test_the_grid_workers_task_page_shows_its_chart_and_prints_its_list(browser, live_server, tmp_path):
    shots = _shots(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    ctx, page = _login(browser, live_server, "wangge")
    page.click("text=走访核查")
    page.wait_for_url(f"{live_server}/tasks")
    chart = page.locator("img.chart")
    # drawn, not blocked: the page's content security policy admits the chart's data: image and nothing else
    assert chart.evaluate("img => img.complete && img.naturalWidth") > 600
    assert "金沙二网格" in page.content() and "金沙一网格" not in page.content()
    page.screenshot(path=str(shots / "tasks.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("text=下载（Excel）")
    assert dl.value.suggested_filename.startswith("走访核查任务单_金沙二网格_G2_")
    ctx.close()


def test_the_street_office_reads_the_live_versions_run_report_within_its_jurisdiction(browser, live_server, tmp_path):
    shots = _shots(tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    ctx, page = _login(browser, live_server, "jiedao")
    page.goto(f"{live_server}/runs")
    page.click("text=查看当前版本的运行报告")
    page.wait_for_url(f"{live_server}/runs/report")
    text = page.locator("main").inner_text()
    page.screenshot(path=str(shots / "run-report.png"), full_page=True)
    # every inbox file answered, with why
    refused = page.locator("tr", has_text="residents/坏文件.csv").inner_text()
    assert "整份拒收" in refused and "缺少必填列 房屋编码" in refused
    assert "未读取" in page.locator("tr", has_text="residents/说明.txt").inner_text()
    assert "已导入" in page.locator("tr", has_text="residents/2026-10 河滨社区.xlsx").inner_text()
    # what changed since version 000001: 赵六 of 金沙社区 待核实 → 在住; 河滨社区 is another street's
    assert "上一版本 000001" in text
    assert "金沙社区" in text and "河滨社区" not in page.locator("table", has_text="登记人口").inner_text()
    move = page.locator("tr", has_text="待核实").filter(has_text="在住").last.inner_text()
    assert move.split()[-1] == "1"
    # the 河滨 file's refused rows lie in the other street: not listed here
    assert "R-H1" not in text and "河秘密" not in text
    ctx.close()

    ctx, page = _login(browser, live_server, "dongmen")
    page.goto(f"{live_server}/runs/report")
    text = page.locator("main").inner_text()
    assert "R-H1" in text and "2022-02-30" in text and "R-X1" not in text
    changes = page.locator("table", has_text="登记人口").inner_text()
    assert "河滨社区" in changes and "金沙社区" not in changes
    assert "填报单位：锦江区东门街道" in text or "填报单位：东门街道" in text
    ctx.close()

    ctx, page = _login(browser, live_server, "shequ")      # a community: no run status, no run report
    assert page.goto(f"{live_server}/runs/report").status == 403
    ctx.close()


@pytest.mark.slow   # a browser journey over a rebuilt store
def test_a_steward_follows_the_progress_of_their_communities_issues(browser, live_server, portal_home, tmp_path):
    from pipelines.store import Store

    with Store(portal_home / "store.duckdb").connect(read_only=True) as conn:
        counts = dict(((c, s), n) for c, s, n in conn.execute(
            "SELECT community_code, status, count(*) FROM quality.issues GROUP BY ALL").fetchall())
    ctx, page = _login(browser, live_server, "shequ")          # 金沙社区's steward
    page.goto(f"{live_server}/queue")
    page.click("text=处理进度")
    page.wait_for_url(f"{live_server}/queue/progress")
    rows = page.locator("#per-community tbody tr").all_inner_texts()
    assert len(rows) == 1 and rows[0].startswith("金沙社区"), rows
    # open + fixed + waived: every issue of 金沙社区 (a fix made in the portal earlier moves one from open to fixed)
    assert sum(int(n) for n in rows[0].split("\t")[1:4]) == sum(n for (c, _), n in counts.items() if c == "C1")
    assert int(rows[0].split("\t")[1]) >= 1
    assert "河滨社区" not in page.locator("main").inner_text()       # another street's community
    assert page.locator("#trend tbody tr").count() >= 1
    assert page.locator("#per-kind tbody tr", has_text="日期无效").count() == 1
    page.screenshot(path=str(_shots(tmp_path) / "queue-progress.png"), full_page=True)
    assert page.goto(f"{live_server}/queue/progress?community=C3").status == 403
    ctx.close()

    ctx, page = _login(browser, live_server, "jiedao")         # the street office: every community of its street
    page.goto(f"{live_server}/queue/progress")
    names = [r.split("\t")[0] for r in page.locator("#per-community tbody tr").all_inner_texts()]
    assert "金沙社区" in names and "河滨社区" not in names
    ctx.close()

    ctx, page = _login(browser, live_server, "minzheng")       # no steward queue, no progress
    assert page.goto(f"{live_server}/queue/progress").status == 403
    ctx.close()
