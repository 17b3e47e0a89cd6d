"""The portal over HTTP (Starlette's TestClient against the real app, store and portal database)."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import re
import shutil
import time
import zipfile
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from pipelines.quality import pending
from pipelines.store import Store
from pipelines.web import (UserError, add_user, audit_log, create_app, disable_user, ensure_demo_users,
                           reset_password)
from tests.web.portal_world import PASSWORD, csrf_of, issue_id, issue_status, login

_ips = (f"10.0.0.{i}" for i in itertools.count(1))


def client(app, **kw) -> TestClient:
    # a distinct client address per client: login throttling counts failures per address too
    return TestClient(app, client=(next(_ips), 50000), follow_redirects=False, **kw)


def logged_in(app, user: str) -> TestClient:
    c = client(app)
    r = login(c, user)
    assert r.status_code == 303, r.text
    return c


# --- login, sessions, accounts ---------------------------------------------------------------------

def test_login_sets_an_httponly_strict_cookie_and_logout_ends_it(app):
    c = client(app)
    assert c.get("/").headers["location"] == "/login"
    r = login(c, "jiedao")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "onceonly_session=" in cookie
    home = c.get("/")
    assert home.status_code == 200 and "jiedao" in home.text and "街道办事处" in home.text
    assert "default-src 'none'" in home.headers["content-security-policy"]
    assert home.headers["x-frame-options"] == "DENY"
    r = c.post("/logout", data={"csrf": csrf_of(c)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/").headers["location"] == "/login"


def test_a_made_up_session_cookie_is_ignored(app):
    c = logged_in(app, "jiedao")
    forged = client(app)
    forged.cookies.set("onceonly_session", c.cookies["onceonly_session"][:-2] + "xx")
    assert forged.get("/").headers["location"] == "/login"


def test_wrong_passwords_are_refused_and_delayed_more_each_time(app, portal_home, monkeypatch):
    from pipelines.web import throttle

    add_user(portal_home, "victim", PASSWORD, "社区", "C2")
    c = client(app)
    r = login(c, "victim", "wrong-password-1")
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    # at once again: the first failure asks for a second's wait, and the attempt is not checked
    r = login(c, "victim", PASSWORD)
    assert r.status_code == 429 and "秒后再试" in r.text and int(r.headers["retry-after"]) >= 1
    # unknown users get the same answers as wrong passwords
    r = login(client(app), "nobody-here", "whatever-123")
    assert r.status_code == 401
    # the delays grow with the attempts from this address (the refused ones count too)
    waits = []
    for _ in range(4):
        r = login(c, "victim", "wrong-password-1")
        assert r.status_code == 429
        waits.append(int(r.headers["retry-after"]))
    assert waits == sorted(waits) and waits[-1] >= 16
    later = time.time() + throttle.FORGET_S + 1       # an hour without attempts: the delays are forgotten
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    r = login(c, "victim", PASSWORD)
    assert r.status_code == 303
    monkeypatch.undo()
    reset_password(portal_home, "victim", "a-new-password-9")     # an administrator's reset clears delays
    assert login(client(app), "victim", "a-new-password-9").status_code == 303


def test_disable_and_reset_end_existing_sessions(app, portal_home):
    add_user(portal_home, "temp1", PASSWORD, "社区", "C1")
    c = logged_in(app, "temp1")
    assert c.get("/").status_code == 200
    reset_password(portal_home, "temp1", "another-pass-77")
    assert c.get("/").headers["location"] == "/login"
    c = client(app)
    assert login(c, "temp1", "another-pass-77").status_code == 303
    disable_user(portal_home, "temp1")
    assert c.get("/").headers["location"] == "/login"
    assert login(client(app), "temp1", "another-pass-77").status_code == 401


def test_add_user_checks_department_jurisdiction_and_password(portal_home):
    with pytest.raises(UserError, match="必须指定"):
        add_user(portal_home, "x1", PASSWORD, "社区", "")
    with pytest.raises(UserError, match="社区级"):
        add_user(portal_home, "x2", PASSWORD, "社区", "S1")          # a community department, a street scope
    with pytest.raises(UserError, match="部门登记表"):
        add_user(portal_home, "x3", PASSWORD, "税务", "S1")
    with pytest.raises(UserError, match="至少"):
        add_user(portal_home, "x4", "short", "街道办", "S1")
    with pytest.raises(UserError, match="不是网格表"):
        add_user(portal_home, "x5", PASSWORD, "街道办", "S9")
    with pytest.raises(UserError, match="已存在"):
        add_user(portal_home, "jiedao", PASSWORD, "街道办", "S1")
    u = add_user(portal_home, "by-name", PASSWORD, "民政", "草堂街道")   # names work too, stored as codes
    assert (u.scope_level, u.scope_code, u.scope_name) == ("street", "S1", "草堂街道")


def test_demo_users_are_created_once_and_can_log_in(tmp_path, portal_home):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(portal_home / "store.duckdb", home / "store.duckdb")
    first = ensure_demo_users(home)
    assert {u for u, *_ in first} >= {"jiedao", "shequ", "minzheng"}
    assert ensure_demo_users(home) == first                      # printed again, not re-created
    user, password, dept, scope = next(a for a in first if a[0] == "shequ")
    app = create_app(home)
    assert login(client(app), user, password).status_code == 303


# --- every role sees its own pages ---------------------------------------------------------------

def test_home_and_navigation_by_role(app):
    street = logged_in(app, "jiedao").get("/").text
    assert "待处理的数据问题" in street and "运行状态" in street
    steward = logged_in(app, "shequ").get("/").text
    assert "待处理的数据问题" in steward and 'href="/runs"' not in steward
    analyst = logged_in(app, "jiaoyu").get("/").text
    assert "适龄儿童名单" in analyst and 'href="/queue"' not in analyst and "救助" not in analyst


def test_report_preview_and_xlsx_download(app):
    c = logged_in(app, "jiedao")
    page = c.get("/reports?name=population-monthly&as_of=2026-10-31&scope=C1")
    assert page.status_code == 200 and "/reports/view?" in page.text
    view = c.get("/reports/view?name=population-monthly&as_of=2026-10-31&scope=C1")
    assert view.status_code == 200 and "实有人口统计月报" in view.text and "金沙社区" in view.text
    assert "sandbox" in view.headers["content-security-policy"]
    xlsx = c.get("/reports/download?name=population-monthly&as_of=2026-10-31&scope=S1")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert "实有人口统计月报" in str(wb.worksheets[0]["A1"].value)


def _csv_rows(content: bytes) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return header, rows


def test_a_reports_person_list_downloads_as_the_csv_the_report_names(app, portal_home):
    c = logged_in(app, "jiedao")
    query = "name=elderly-80plus&as_of=2026-10-31&scope=S1"
    r = c.get(f"/reports/list?{query}&list=list")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert quote("高龄（80岁以上）老人名单_高龄老人名单_2026-10-31.csv") in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode("utf-8"))        # Excel opens Chinese CSV only with a BOM
    header, rows = _csv_rows(r.content)
    assert header[:3] == ["人员主键", "姓名", "性别"] and rows
    ids = [row[header.index("公民身份号码")] for row in rows if row[header.index("公民身份号码")]]
    assert ids and all(re.fullmatch(r"\d{6}\*{8}[\dX]{4}", v) for v in ids)     # masked for 街道办, as in the report
    # made once for the jurisdiction: another user of the street gets the same file, recorded as theirs
    assert logged_in(app, "steward").get(f"/reports/list?{query}&list=list").content == r.content
    # the count the report prints for this file, and the people the same extract holds for the same area
    view = c.get(f"/reports/view?{query}").text
    assert f"-list.csv”（共 {len(rows)} 条）" in view
    extract = c.get("/extracts/download?name=elderly-80plus&fmt=csv&as_of=2026-10-31&scope=S1")
    eh, erows = _csv_rows(extract.content)
    assert sorted(row[header.index("人员主键")] for row in rows) == sorted(row[eh.index("人员主键")] for row in erows)
    # audited twice: the portal's download, and the handout record of the file render_report wrote
    sha = hashlib.sha256(r.content).hexdigest()[:16]
    events = [e for e in audit_log(portal_home, dt.date.today()) if e["user"] == "jiedao"]
    assert any(e["source"] == "portal" and e["action"] == "download" and e["what"] == "report-list:elderly-80plus-list"
               and e["scope"] == "street:S1" and e["dept"] == "街道办" and f"sha256={sha}" in e["detail"]
               for e in events)
    assert any(e["source"] == "handout" and e["what"] == "report:elderly-80plus-list.csv"
               and f"{len(rows)}行 sha256={sha}" in e["detail"] for e in events)
    assert any(e["source"] == "handout" and e["user"] == "steward" and e["what"] == "report:elderly-80plus-list.csv"
               for e in audit_log(portal_home, dt.date.today()))


def test_a_communitys_list_holds_only_its_community(app):
    c = logged_in(app, "shequ")
    r = c.get("/reports/list?name=courtyard-profile&as_of=2026-10-31&scope=C1&list=contacts")
    assert r.status_code == 200
    header, rows = _csv_rows(r.content)
    assert header == ["社区", "小区", "楼栋", "姓名", "身份", "联系电话"]
    assert rows and {row[0] for row in rows} == {"金沙社区"}
    assert f"共 {len(rows)} 人" in c.get("/reports/view?name=courtyard-profile&as_of=2026-10-31&scope=C1").text


def test_the_reports_page_links_each_list_the_report_writes(app):
    c = logged_in(app, "jiedao")
    page = c.get("/reports?name=floating-stats&as_of=2026-10-31&scope=C1").text
    for key, title in (("expiring", "居住证30天内到期名单"), ("unregistered", "网格员见到但从未登记的流动人口名单")):
        assert f'href="/reports/list?name=floating-stats&amp;as_of=2026-10-31&amp;scope=C1&amp;list={key}"' in page
        assert f"下载“{title}”" in page
    assert "/reports/list?" not in c.get("/reports?name=population-monthly").text     # a report without lists


def test_an_unknown_list_is_a_404_naming_the_reports_lists(app, portal_home):
    c = logged_in(app, "jiedao")
    r = c.get("/reports/list?name=health-key-groups&as_of=2026-10-31&list=<b>adults</b>")
    assert r.status_code == 404 and "没有找到" in r.text
    assert "报表“0-6岁儿童及65岁以上老人名册”没有这个名单" in r.text
    assert "“0-6岁儿童名单”、“65岁及以上老人名单”" in r.text and "adults" not in r.text
    r = c.get("/reports/list?name=population-monthly&as_of=2026-10-31&list=list")
    assert r.status_code == 404 and "该报表不附带人员名单" in r.text
    events = [e for e in audit_log(portal_home, dt.date.today()) if e["user"] == "jiedao"]
    assert any(e["action"] == "refused" and e["what"].startswith("/reports/list?name=health-key-groups&")
               and "list=<b>adults</b>" in e["what"] for e in events)


def test_list_downloads_outside_the_grant_are_refused_and_audited(app, portal_home):
    r = logged_in(app, "jiaoyu").get("/reports/list?name=elderly-80plus&as_of=2026-10-31&list=list")
    assert r.status_code == 403 and "无权获取报表" in r.text and "李老" not in r.text
    r = logged_in(app, "dongmen").get("/reports/list?name=elderly-80plus&as_of=2026-10-31&scope=S1&list=list")
    assert r.status_code == 403 and "不在您的辖区" in r.text and "李老" not in r.text
    events = audit_log(portal_home, dt.date.today())
    for user in ("jiaoyu", "dongmen"):
        mine = [e for e in events if e["user"] == user and (e["what"] or "").startswith("/reports/list?")]
        assert mine and all(e["result"] == "refused" for e in mine)
        assert not any(e["user"] == user and (e["what"] or "").startswith("report-list:") for e in events)


def test_extract_downloads_follow_the_grant(app):
    c = logged_in(app, "minzheng")
    page = c.get("/extracts").text
    assert "救助对象核查表" in page and "适龄儿童名单" not in page
    r = c.get("/extracts/download?name=assistance-check&fmt=parquet&as_of=2026-10-31&scope=S1")
    assert r.status_code == 200
    table = pq.read_table(io.BytesIO(r.content))
    ids = table.column("公民身份号码").to_pylist()
    assert "510104195001010099" in ids                        # 民政's grant: IDs in full
    r = c.get("/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=C1")
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    assert "G1" in text and "G4" not in text                   # only 金沙社区's grids
    street = logged_in(app, "jiedao")
    r = street.get("/extracts/download?name=assistance-check&fmt=xlsx&as_of=2026-10-31")
    wb = load_workbook(io.BytesIO(r.content))
    cells = [str(v) for row in wb.worksheets[0].iter_rows(values_only=True) for v in row if v]
    assert any(re.fullmatch(r"510104\*{8}0099", v) for v in cells)   # masked for 街道办
    assert "510104195001010099" not in cells


def test_queue_scorecard_and_runs(app):
    c = logged_in(app, "shequ")
    q = c.get("/queue")
    assert q.status_code == 200 and "R-X3" in q.text and "1990-02-31" in q.text
    assert "R-H1" not in q.text                                 # another street's community
    s = c.get("/scorecard")
    assert s.status_code == 200 and "实有人口" in s.text
    runs = logged_in(app, "jiedao").get("/runs")
    assert runs.status_code == 200 and "整文件拒收" in runs.text and "缺少必填列" in runs.text
    wb = load_workbook(io.BytesIO(c.get("/queue/export").content))
    ids = [r[0] for ws in wb.worksheets[1:] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert ids and all(i != issue_id(app.state.portal.home, "R-H1") for i in ids)


def test_queue_pages_and_rule_names(app, monkeypatch):
    """A street's queue runs to thousands of issues: it is shown page by page, rules by Chinese name."""
    from pipelines.web import pages

    c = logged_in(app, "shequ")
    q = c.get("/queue")
    assert "日期无效" in q.text and ">date_invalid<" not in q.text
    total = int(re.search(r"共 (\d+) 条", q.text).group(1))
    assert total >= 2
    monkeypatch.setattr(pages, "QUEUE_LIMIT", 1)
    seen = []
    for n in range(1, total + 1):
        p = c.get(f"/queue?status=open&page={n}")
        assert p.status_code == 200 and f"第 {n} / {total} 页" in p.text
        assert ("下一页" in p.text) == (n < total) and ("上一页" in p.text) == (n > 1)
        seen += re.findall(r'id="issue-([A-Z]+)"', p.text)    # letter ids (sql/macros/keys.sql letter_digest)
    assert len(seen) == total == len(set(seen))          # every issue once, none skipped
    assert c.get("/queue?page=0").status_code == 400 and c.get("/queue?page=x").status_code == 400


# --- refusals: grants, jurisdictions, nothing leaked ------------------------------------------------

# (no short codes like "G4": the random CSRF token in every page could contain them)
SECRETS_OF_OTHERS = ["河秘密", "河机密", "R-H1", "R-H2", "2022-02-30", "河滨一网格", "河滨路9号"]


@pytest.mark.parametrize("user,path", [
    ("shequ", "/queue?community=C3"),                                   # another street's community
    ("shequ", "/queue/export?community=C3"),
    ("shequ", "/reports?name=population-monthly&as_of=2026-10-31&scope=C3"),
    ("shequ", "/reports/view?name=population-monthly&as_of=2026-10-31&scope=S2"),
    ("shequ", "/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=C3"),
    ("jiedao", "/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=S2"),
    ("jiedao", "/reports/download?name=population-monthly&as_of=2026-10-31&scope=C3"),
    ("jiedao", "/reports/list?name=emergency-vulnerable&as_of=2026-10-31&scope=S2&list=list"),
    ("shequ", "/reports/list?name=courtyard-profile&as_of=2026-10-31&scope=C3&list=contacts"),
    ("jiedao", "/extracts/download?name=person-sources&fmt=csv&as_of=2026-10-31"),   # stewards only
    ("jiaoyu", "/reports?name=assistance-check"),                       # outside 教育's grant
    ("jiaoyu", "/reports/view?name=assistance-check&as_of=2026-10-31"),
    ("jiaoyu", "/reports/list?name=assistance-check&as_of=2026-10-31&list=list"),
    ("jiaoyu", "/extracts/download?name=assistance-check&fmt=csv&as_of=2026-10-31"),
    ("jiaoyu", "/queue"), ("jiaoyu", "/scorecard"), ("jiaoyu", "/runs"), ("shequ", "/runs"),
    ("minzheng", "/queue/export?community=C1"),
    ("dongmen", "/queue?community=C1"),
])
def test_outside_the_grant_is_403_and_leaks_nothing(app, user, path):
    r = logged_in(app, user).get(path)
    assert r.status_code == 403, (path, r.status_code)
    assert "无权" in r.text or "不在您的辖区" in r.text or "仅限" in r.text
    for secret in SECRETS_OF_OTHERS + ["周九", "510104195001010099", "金一", "草堂路"]:
        assert secret not in r.text, (path, secret)


def test_person_sources_is_for_the_named_steward_only(app):
    r = logged_in(app, "steward").get("/extracts/download?name=person-sources&fmt=csv&as_of=2026-10-31")
    assert r.status_code == 200 and "人员主键" in r.content.decode("utf-8-sig")


def test_a_steward_cannot_fix_another_jurisdictions_issue(app, portal_home):
    c = logged_in(app, "shequ")
    r = c.post("/queue/fix", data={"csrf": csrf_of(c), "issue_id": issue_id(portal_home, "R-H1"),
                                   "action": "修正", "value": "2022-02-28", "reason": "试图越权"})
    assert r.status_code == 403 and "河秘密" not in r.text
    assert issue_status(portal_home, "R-H1") == "open"


# --- CSRF ------------------------------------------------------------------------------------------

def test_forged_csrf_is_refused(app, portal_home):
    victim = logged_in(app, "shequ")
    other = logged_in(app, "jiedao")
    target = issue_id(portal_home, "R-X3")
    form = {"issue_id": target, "action": "忽略", "value": "", "reason": "forged"}
    assert victim.post("/queue/fix", data=form).status_code == 403                              # no token
    assert victim.post("/queue/fix", data={**form, "csrf": "x" * 43}).status_code == 403         # made up
    assert victim.post("/queue/fix", data={**form, "csrf": csrf_of(other)}).status_code == 403   # another session's
    r = victim.post("/queue/fix", data={**form, "csrf": csrf_of(victim)},
                    headers={"Origin": "http://evil.example"})                                   # cross-site
    assert r.status_code == 403
    assert victim.post("/logout", data={}).status_code == 403
    assert client(app).post("/login", data={"username": "shequ", "password": PASSWORD}).status_code == 403
    assert issue_status(portal_home, "R-X3") == "open"


# --- injection and traversal -----------------------------------------------------------------------

NASTY = ["C1' OR community_code IS NOT NULL --", "1; DROP TABLE quality.issues; --", "../../../../etc/passwd",
         "..\\..\\portal.sqlite3", "<script>alert(1)</script>", "\u0000" + "x" * 3000]
PARAMS = {
    "/reports": ["name", "as_of", "scope"],
    "/reports/view": ["name", "as_of", "scope"],
    "/reports/download": ["name", "as_of", "scope"],
    "/reports/list": ["name", "as_of", "scope", "list"],
    "/extracts/download": ["name", "fmt", "as_of", "scope"],
    "/queue": ["community", "rule", "status"],
    "/queue/export": ["community"],
}
VALID = {"name": "population-monthly", "as_of": "2026-10-31", "scope": "S1", "fmt": "csv", "community": "C1",
         "rule": "date_invalid", "status": "open", "list": "list"}


def test_injection_and_traversal_strings_in_every_parameter(app, portal_home):
    c = TestClient(app, client=("10.9.9.9", 1), follow_redirects=False, raise_server_exceptions=False)
    assert login(c, "jiedao").status_code == 303
    with Store(portal_home / "store.duckdb").connect(read_only=True) as conn:
        before = conn.execute("SELECT count(*) FROM quality.issues").fetchall()[0][0]
    t0 = time.time()
    for path, params in PARAMS.items():
        for param in params:
            for bad in NASTY:
                query = {k: VALID[k] for k in params}
                if path.startswith("/extracts"):
                    query["name"] = "grid-population"
                query[param] = bad
                r = c.get(path, params=query)
                assert r.status_code in (200, 400, 403, 404), (path, param, bad, r.status_code)
                assert "root:x:" not in r.text and "<script>alert" not in r.text
                if r.status_code == 200 and param in ("name", "as_of", "scope", "fmt", "community"):
                    pytest.fail(f"{path} accepted {param}={bad!r}")
    print(f"GET: {time.time() - t0:.1f}s")
    t0 = time.time()
    for field in ("issue_id", "action", "value", "reason", "community", "status", "rule"):
        for bad in (NASTY[0], NASTY[2], NASTY[4]):
            form = {"csrf": csrf_of(c), "issue_id": issue_id(portal_home, "R-X5"), "action": "修正",
                    "value": "1975-09-30", "reason": "检查", field: bad}
            if field == "value":
                form["action"] = "修正"
            r = c.post("/queue/fix", data=form)
            assert r.status_code in (303, 400, 403), (field, bad, r.status_code)
    for bad in (NASTY[0], NASTY[2]):
        r = c.post("/login", data={"csrf": csrf_of(c), "username": bad, "password": bad})
        assert r.status_code in (303, 401, 429)
    with Store(portal_home / "store.duckdb").connect(read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM quality.issues").fetchall()[0][0] == before
    assert c.get("/").status_code == 200


# --- fixing: inline and by workbook ------------------------------------------------------------------

def test_inline_fix_and_waive_are_validated_recorded_and_audited(app, portal_home):
    c = logged_in(app, "shequ")
    target = issue_id(portal_home, "R-X1")
    r = c.post("/queue/fix", data={"csrf": csrf_of(c, "/queue"), "issue_id": target, "action": "修正",
                                   "value": "2024-02-31", "reason": "核对户口本"})
    assert r.status_code == 303
    assert "未能修正" in c.get(r.headers["location"]).text          # an impossible date is refused
    assert issue_status(portal_home, "R-X1") == "open"
    r = c.post("/queue/fix", data={"csrf": csrf_of(c, "/queue"), "issue_id": target, "action": "修正",
                                   "value": "2024-02-29", "reason": ""})
    assert "请填写原因" in c.get(r.headers["location"]).text
    r = c.post("/queue/fix", data={"csrf": csrf_of(c, "/queue"), "issue_id": target, "action": "修正",
                                   "value": "2024-02-29", "reason": "核对户口本"})
    assert "已修正" in c.get(r.headers["location"]).text
    assert issue_status(portal_home, "R-X1") == "fixed"
    # the store is only read: the decision waits in the home's database for the next build
    assert issue_status(portal_home, "R-X1", as_stored=True) == "open"
    (by, new, reason), = [(r[11], r[8], r[10]) for r in pending.waiting(portal_home) if r[1] == target]
    assert (by, new, reason) == ("shequ", "2024-02-29", "核对户口本")
    fixed = c.get("/queue?status=fixed").text
    assert "2024-02-29" in fixed and "核对户口本" in fixed
    events = [e for e in audit_log(portal_home, dt.date.today()) if e["user"] == "shequ"]
    assert any(e["action"] == "fix" and e["what"] == target and e["result"] == "ok" for e in events)
    assert any(e["action"] == "fix" and e["result"] == "refused" for e in events)


def _xlsx_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_workbook_round_trip_through_the_browser_upload(app, portal_home):
    c = logged_in(app, "shequ")
    wb = load_workbook(io.BytesIO(c.get("/queue/export?community=C1").content))
    target = issue_id(portal_home, "R-X2")
    for ws in wb.worksheets[1:]:
        ws.protection.sheet = False
        header = [cell.value for cell in ws[2]]      # row 1: the sheet's instruction line
        for row in ws.iter_rows(min_row=3):
            if row[0].value == target:
                row[header.index("修正值")].value = "2023-12-01"
                row[header.index("处理方式")].value = "修正"
                row[header.index("原因")].value = "核对出生证明"
    data = _xlsx_bytes(wb)
    r = c.post("/queue/upload", data={"csrf": csrf_of(c, "/queue")},
               files={"workbook": ("fixes.xlsx", data, "application/octet-stream")})
    assert r.status_code == 200 and "导入 <strong>1</strong> 条" in r.text
    assert issue_status(portal_home, "R-X2") == "fixed"
    # each fix is in the audit under the steward's name, as the command line records its fixes
    assert [e["what"] for e in audit_log(portal_home, dt.date.today()) if e["user"] == "shequ"
            and e["action"] == "fix" and (e["detail"] or "").startswith("fixes.xlsx")] == [target]
    # the same workbook again changes nothing
    r = c.post("/queue/upload", data={"csrf": csrf_of(c, "/queue")},
               files={"workbook": ("fixes.xlsx", data, "application/octet-stream")})
    assert "导入 <strong>0</strong> 条" in r.text


def test_a_workbook_with_another_jurisdictions_issues_is_refused_whole(app, portal_home):
    street2 = logged_in(app, "dongmen")
    wb = load_workbook(io.BytesIO(street2.get("/queue/export?community=C3").content))
    c = logged_in(app, "shequ")
    r = c.post("/queue/upload", data={"csrf": csrf_of(c, "/queue")},
               files={"workbook": ("fixes.xlsx", _xlsx_bytes(wb), "application/octet-stream")})
    assert r.status_code == 403 and "不属于您的辖区" in r.text
    assert "河秘密" not in r.text


def test_oversized_and_zip_bomb_uploads_are_refused_and_the_server_stays_up(app):
    c = logged_in(app, "shequ")
    token = csrf_of(c, "/queue")
    big = b"PK" + b"\0" * (6 * 1024 * 1024)
    r = c.post("/queue/upload", data={"csrf": token}, files={"workbook": ("big.xlsx", big, "application/octet-stream")})
    assert r.status_code == 413 and "上限" in r.text
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (80 * 1024 * 1024))
    assert len(bomb.getvalue()) < 200 * 1024
    r = c.post("/queue/upload", data={"csrf": token},
               files={"workbook": ("bomb.xlsx", bomb.getvalue(), "application/octet-stream")})
    assert r.status_code == 400 and "压缩炸弹" in r.text
    r = c.post("/queue/upload", data={"csrf": token}, files={"workbook": ("x.xlsx", b"not a zip", "text/plain")})
    assert r.status_code == 400 and "不是有效的 Excel" in r.text
    assert c.get("/queue").status_code == 200


# --- audit -----------------------------------------------------------------------------------------

def test_audit_lists_logins_views_downloads_refusals_and_store_handouts(app, portal_home):
    c = logged_in(app, "minzheng")
    c.get("/extracts")
    c.get("/extracts/download?name=assistance-check&fmt=csv&as_of=2026-10-31")
    c.get("/reports?name=school-age-children")
    rows = audit_log(portal_home, dt.date.today())
    mine = [r for r in rows if r["user"] == "minzheng"]
    actions = {r["action"] for r in mine}
    assert {"login", "view", "download", "refused"} <= actions
    assert any(r["source"] == "handout" and r["what"] == "extract:assistance-check.csv" for r in mine)
    assert all(r["dept"] == "民政" for r in mine)
    assert audit_log(portal_home, dt.date.today() + dt.timedelta(days=1)) == []


# --- follow-up tasks -----------------------------------------------------------------------------

def test_task_page_and_grid_workbooks_follow_the_jurisdiction(app, portal_home):
    street = logged_in(app, "jiedao").get("/tasks")
    assert street.status_code == 200 and "走访核查进度" not in street.text       # the page, not the report
    assert "各网格进度" in street.text and 'img class="chart" src="data:image/png;base64,' in street.text
    assert "金沙二网格" in street.text and "银杏学校网格" in street.text
    assert "img-src 'self' data:" in street.headers["content-security-policy"]
    grid = logged_in(app, "wangge")
    page = grid.get("/tasks").text
    assert "金沙二网格" in page and "金沙一网格" not in page and page.count("/tasks/workbook?") == 1
    book = grid.get("/tasks/workbook?grid=G2&as_of=2026-10-31")
    assert book.status_code == 200 and book.content[:2] == b"PK"
    wb = load_workbook(io.BytesIO(book.content))
    ws = wb.worksheets[0]
    assert wb.sheetnames == ["李网格"] and ws["A1"].value == "走访核查任务单"
    ids = [r[7] for r in ws.iter_rows(min_row=5, values_only=True)]
    assert len(ids) == 1400 and not any(ids)              # the seed case has no ID numbers
    # another grid, even in the same community, is refused; so is a department without the grant
    assert grid.get("/tasks/workbook?grid=G1&as_of=2026-10-31").status_code == 403
    assert logged_in(app, "gongan").get("/tasks").status_code == 403
    assert 'href="/tasks"' not in logged_in(app, "gongan").get("/").text
    # a community prints its grids' lists (郑十一 in 金沙一网格), not another community's
    one = logged_in(app, "shequ").get("/tasks/workbook?grid=G1&as_of=2026-10-31")
    assert one.status_code == 200
    assert [r[6] for r in load_workbook(io.BytesIO(one.content)).worksheets[0].iter_rows(min_row=5, values_only=True)] \
        == ["郑十一"]
    assert logged_in(app, "hebin").get("/tasks/workbook?grid=G2&as_of=2026-10-31").status_code == 403
    # a grid without open tasks has nothing to print
    assert logged_in(app, "jiedao").get("/tasks/workbook?grid=G3&as_of=2026-10-31").status_code == 404
    # the grid worker's extract is their grid's list, IDs masked
    r = grid.get("/extracts/download?name=verification-tasks&fmt=csv&as_of=2026-10-31&scope=G2")
    header, rows = _csv_rows(r.content)
    assert r.status_code == 200 and len(rows) == 1400 and {row[0] for row in rows} == {"G2"}
    events = [e for e in audit_log(portal_home, dt.date(2000, 1, 1)) if (e["what"] or "").startswith("tasks-workbook")]
    seen = [(e["user"], e["what"]) for e in events]
    assert ("wangge", "tasks-workbook:G2") in seen and ("shequ", "tasks-workbook:G1") in seen
