"""Access: sessions that end, login throttling under real concurrency, client addresses behind proxies,
and an audit trail that holds every refusal (portal and command line) with what was asked.

HTTP tests run against the real app (TestClient, one client address each) or against uvicorn on loopback
(configured as `onceonly serve` is); a client's source address on loopback is chosen with httpx's
``local_address`` (any 127.x.y.z is this machine)."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import itertools
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from pipelines.cli import main as cli
from pipelines.web import add_user, audit_log, create_app, disable_user, reset_password, throttle
from pipelines.web.delivered import Delivered
from pipelines.homedb import path as portal_db
from tests.web.portal_world import PASSWORD, csrf_of, issue_id, issue_status, login, serving

_ips = (f"10.19.{i // 250}.{i % 250 + 1}" for i in itertools.count())


def client(app) -> TestClient:
    return TestClient(app, client=(next(_ips), 50000), follow_redirects=False)


def logged_in(app, user: str) -> TestClient:
    c = client(app)
    assert login(c, user).status_code == 303
    return c


def events(home: Path, **match) -> list[dict]:
    return [e for e in audit_log(home, dt.date.today()) if all(e[k] == v for k, v in match.items())]


def audit_text(home: Path, *args: str, capsys) -> str:
    capsys.readouterr()
    assert cli(["audit", "--home", str(home), *args]) == 0
    return capsys.readouterr().out


# --- sessions end on the server ---------------------------------------------------------------------

def test_a_replayed_cookie_after_logout_is_refused_and_audited(app, portal_home, capsys):
    c = logged_in(app, "shequ")
    saved = c.cookies["onceonly_session"]
    token = csrf_of(c, "/queue")
    assert token not in saved and len(saved) < 60          # the cookie is an id only: no token, no name
    assert c.post("/logout", data={"csrf": token}).status_code == 303

    replay = client(app)
    replay.cookies.set("onceonly_session", saved)
    for path in ("/", "/queue", "/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=C1"):
        r = replay.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    target = issue_id(portal_home, "R-X4")
    r = replay.post("/queue/fix", data={"csrf": token, "issue_id": target, "action": "忽略", "value": "",
                                        "reason": "replay"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert issue_status(portal_home, "R-X4") == "open"
    r = replay.post("/queue/upload", data={"csrf": token}, files={"workbook": ("f.xlsx", b"PK\3\4", "x")})
    assert r.status_code == 303 and r.headers["location"] == "/login"

    refused = [e for e in events(portal_home, user="shequ", action="refused") if "已退出登录" in e["detail"]]
    assert {e["what"] for e in refused} >= {
        "/", "/queue", "/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=C1",
        f"/queue/fix?issue_id={target}&action=忽略&value&reason", "/queue/upload"}
    assert all(e["dept"] == "社区" for e in refused)
    text = audit_text(portal_home, "--refused", "--user", "shequ", capsys=capsys)
    assert "/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=C1" in text
    assert "会话已结束（已退出登录" in text


def test_reset_and_disable_end_sessions_at_once_and_say_so_in_the_audit(app, portal_home):
    add_user(portal_home, "ends1", PASSWORD, "社区", "C1")
    a, b = logged_in(app, "ends1"), logged_in(app, "ends1")       # two browsers
    reset_password(portal_home, "ends1", "second-pass-42")
    for c in (a, b):
        assert c.get("/queue").headers["location"] == "/login"
    assert any("密码已被重置" in e["detail"] for e in events(portal_home, user="ends1", action="refused"))
    c = client(app)
    assert login(c, "ends1", "second-pass-42").status_code == 303
    disable_user(portal_home, "ends1")
    assert c.get("/").headers["location"] == "/login"
    assert any("账号已停用" in e["detail"] for e in events(portal_home, user="ends1", action="refused"))
    assert any(e["action"] == "user_disable" and e["source"] == "cli" and "结束会话 1 个" in e["detail"]
               for e in events(portal_home, what="ends1"))


def test_the_csrf_token_belongs_to_the_server_session(app, portal_home):
    c = logged_in(app, "shequ")
    before = csrf_of(c, "/queue")
    assert c.post("/logout", data={"csrf": before}).status_code == 303
    assert login(c, "shequ").status_code == 303
    target = issue_id(portal_home, "R-X4")
    form = {"issue_id": target, "action": "忽略", "value": "", "reason": "old token"}
    r = c.post("/queue/fix", data={**form, "csrf": before})          # the token of the session that ended
    assert r.status_code == 403
    assert issue_status(portal_home, "R-X4") == "open"
    assert csrf_of(c, "/queue") != before                               # a new session, a new token
    assert any(e["what"].startswith("/queue/fix?issue_id=") and "CSRF" in e["detail"]
               for e in events(portal_home, user="shequ", action="refused"))


@pytest.mark.slow   # waits out real session lifetimes (≈ 6 s)
def test_idle_sessions_end_and_active_ones_last_until_their_lifetime(portal_home):
    add_user(portal_home, "idle1", PASSWORD, "社区", "C1")
    quick = create_app(portal_home, session_idle_minutes=1.5 / 60, session_hours=4 / 3600)   # 1.5 s idle, 4 s life
    c = client(quick)
    assert login(c, "idle1").status_code == 303
    time.sleep(2.0)
    r = c.get("/queue")
    assert r.headers["location"] == "/login?timeout=1"
    assert "已自动退出" in c.get(r.headers["location"]).text
    assert login(c, "idle1").status_code == 303
    start = time.time()
    while c.get("/").status_code == 200 and time.time() - start < 8:   # busy, never idle for 1.5 s ...
        time.sleep(0.3)
    assert 4.0 <= time.time() - start < 6                               # ... until its lifetime is over
    assert c.get("/").headers["location"] == "/login"                   # ended: no session any more
    whys = [e["detail"] for e in events(portal_home, user="idle1", action="refused")]
    assert any("空闲超时" in w for w in whys) and any("超过最长登录时长" in w for w in whys)


# --- login throttling ------------------------------------------------------------------------------

def _attempt(base: str, addr: str, user: str, password: str, ready=None, go=None, headers=None):
    """One browser: fetch the login form, then (when told to) post it. Returns the status code."""
    with httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=addr), follow_redirects=False,
                      timeout=120) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        if ready is not None:
            ready.wait()
        if go is not None:
            go.wait()
        return c.post("/login", data={"csrf": token, "username": user, "password": password},
                      headers=headers or {}).status_code


def test_20_concurrent_wrong_passwords_are_throttled_and_a_right_one_among_them_fails(live_server, portal_home):
    add_user(portal_home, "burst", PASSWORD, "社区", "C1")
    addr = "127.0.0.31"
    start = threading.Barrier(20)
    first_answer = threading.Event()

    def wrong(i: int) -> int:
        code = _attempt(live_server, addr, "burst", f"wrong-password-{i}", ready=start)
        first_answer.set()
        return code

    with concurrent.futures.ThreadPoolExecutor(max_workers=21) as pool:
        wrongs = [pool.submit(wrong, i) for i in range(20)]
        # the right password goes in as soon as the burst is being answered, while the rest are in flight
        right = pool.submit(_attempt, live_server, addr, "burst", PASSWORD, go=first_answer)
        codes = [f.result() for f in wrongs]
        right_code = right.result()
    print(f"20 concurrent wrong passwords: {codes.count(429)}×429, {codes.count(401)}×401; right one: {right_code}")
    assert codes.count(429) >= 15 and set(codes) <= {401, 429}
    assert right_code == 429
    mine = events(portal_home, user="burst")
    assert not [e for e in mine if e["action"] == "login"]
    assert len([e for e in mine if e["action"] == "login_failed"]) == 21
    assert all(e["dept"] == "社区" and "ip=127.0.0.31" in e["detail"] for e in mine)
    assert len([e for e in mine if "未核对密码" in e["detail"]]) == codes.count(429) + 1


def test_a_lockout_from_one_address_does_not_stop_the_user_at_another(live_server, portal_home):
    add_user(portal_home, "roams", PASSWORD, "社区", "C1")
    attacker, office = "127.0.0.41", "127.0.0.42"
    codes = [_attempt(live_server, attacker, "roams", f"guess-{i}") for i in range(6)]
    assert codes[0] == 401 and codes.count(429) >= 4
    # the user's own machine is not delayed at all
    assert _attempt(live_server, office, "roams", PASSWORD) == 303
    # from the guessing address the right password waits out the delay (documented: 2^(n-1) s after n attempts)
    with httpx.Client(base_url=live_server, transport=httpx.HTTPTransport(local_address=attacker),
                      follow_redirects=False) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"csrf": token, "username": "roams", "password": PASSWORD})
        assert r.status_code == 429
        wait = int(r.headers["retry-after"])
    assert 2 ** 5 <= wait <= throttle.MAX_DELAY_S + 1        # 7 attempts: 64 s


def test_spraying_one_address_and_guessing_from_many_are_slowed_without_locking_out_the_owner(
        app, portal_home, monkeypatch):
    monkeypatch.setattr(throttle, "ADDR_FREE", 3)
    monkeypatch.setattr(throttle, "USER_FREE", 3)
    for name in ("spray1", "spray2", "spray3", "spray4", "spray5"):
        add_user(portal_home, name, PASSWORD, "社区", "C1")
    sprayer = client(app)
    assert [login(sprayer, f"spray{i}", "wrong-pass-00").status_code for i in (1, 2, 3)] == [401] * 3
    r = login(sprayer, "spray4", "wrong-pass-00")       # the fourth failure from this address: a delay
    assert r.status_code == 401
    assert login(sprayer, "spray5", PASSWORD).status_code == 429       # the address waits, whatever the account
    assert login(client(app), "spray5", PASSWORD).status_code == 303   # other addresses do not

    owner = client(app)
    assert login(owner, "spray1", PASSWORD).status_code == 303          # spray1's known address
    codes = [login(client(app), "spray1", "wrong-pass-11").status_code for _ in range(6)]   # six new addresses
    assert codes[0] == 401 and codes[-1] == 429                          # new addresses soon wait
    assert login(client(app), "spray1", PASSWORD).status_code == 429
    owner.cookies.clear()
    assert login(owner, "spray1", PASSWORD).status_code == 303           # the owner's own address does not
    assert any("来自未登录过的地址" in e["detail"] for e in events(portal_home, user="spray1", action="login_failed"))


def test_the_throttle_check_and_count_is_one_step_in_the_database(portal_home):
    """Checked at the database itself, without the server: 40 threads start the same attempt at once."""
    barrier = threading.Barrier(40)

    def go(_):
        barrier.wait()
        return throttle.begin(portal_home, "nobody-at-all", "192.0.2.77").allowed

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        allowed = list(pool.map(go, range(40)))
    assert allowed.count(True) == 1
    with sqlite3.connect(portal_db(portal_home)) as conn:
        assert conn.execute("SELECT failures FROM login_throttle WHERE key = ?",
                            ["pair:nobody-at-all\n192.0.2.77"]).fetchall() == [(40,)]


# --- client addresses behind proxies --------------------------------------------------------------

def _failed_ip(home: Path, user: str) -> list[str]:
    return [re.search(r"ip=(\S+)", e["detail"]).group(1) for e in events(home, user=user, action="login_failed")]


def test_x_forwarded_for_is_believed_only_from_configured_proxies(live_server, portal_home):
    spoof = {"X-Forwarded-For": "203.0.113.7"}
    # the portal as served by default: a local client's header is ignored
    _attempt(live_server, "127.0.0.51", "xff-a", "whatever-123", headers=spoof)
    assert _failed_ip(portal_home, "xff-a") == ["127.0.0.51"]
    proxied = create_app(portal_home, trusted_proxies="127.0.0.1")
    with serving(proxied) as url:
        _attempt(url, "127.0.0.1", "xff-b", "whatever-123", headers=spoof)               # the proxy
        _attempt(url, "127.0.0.52", "xff-c", "whatever-123", headers=spoof)              # not the proxy
        _attempt(url, "127.0.0.1", "xff-d", "whatever-123",
                 headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})               # client-written left part
    assert _failed_ip(portal_home, "xff-b") == ["203.0.113.7"]
    assert _failed_ip(portal_home, "xff-c") == ["127.0.0.52"]
    assert _failed_ip(portal_home, "xff-d") == ["203.0.113.8"]


# --- downloads are audited once sent ----------------------------------------------------------------

def test_every_download_is_audited_after_it_is_sent_with_the_bytes(app, portal_home):
    c = logged_in(app, "jiedao")
    for path, what in (
            ("/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31&scope=S1", "extract:grid-population.csv"),
            ("/reports/download?name=population-monthly&as_of=2026-10-31&scope=S1", "report:population-monthly.xlsx"),
            ("/reports/list?name=elderly-80plus&as_of=2026-10-31&scope=S1&list=list", "report-list:elderly-80plus-list"),
            ("/queue/export?community=C1", "fixes-workbook")):
        r = c.get(path)
        assert r.status_code == 200
        n = len(r.content)
        last = events(portal_home, user="jiedao", what=what, source="portal")[-1]
        assert last["action"] == "download" and last["result"] == "ok", last
        assert f"已发送 {n}/{n} 字节" in last["detail"]


def test_a_download_broken_off_is_recorded_as_incomplete_and_only_after_the_connection_ends(tmp_path):
    """The mechanism on a real server: a file larger than the socket buffers, a client that reads one chunk
    and leaves. Nothing is recorded while the transfer is under way."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.write(b"\0" * (64 * 1024 * 1024))
    outcomes: list[tuple[str, str]] = []

    def download(request):
        return Delivered(FileResponse(big), lambda result, detail: outcomes.append((result, detail)))

    app = Starlette(routes=[Route("/big", download)])
    with serving(app) as url:
        with httpx.Client(base_url=url, timeout=30) as c:
            with c.stream("GET", "/big") as r:
                chunks = r.iter_raw(64 * 1024)     # kept: a dropped iterator closes the connection
                next(chunks)
                time.sleep(0.5)
                assert outcomes == []              # under way: not recorded as delivered
        deadline = time.time() + 10
        while not outcomes and time.time() < deadline:
            time.sleep(0.05)
        assert outcomes and outcomes[0][0] == "incomplete", outcomes
        sent = int(re.search(r"已发送 (\d+)/", outcomes[0][1]).group(1))
        assert 0 < sent < big.stat().st_size
        with httpx.Client(base_url=url, timeout=60) as c:
            assert len(c.get("/big").content) == big.stat().st_size
        deadline = time.time() + 10
        while len(outcomes) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert outcomes[1][0] == "ok" and f"{big.stat().st_size}/{big.stat().st_size}" in outcomes[1][1]


# --- refusals on record, with what was asked ------------------------------------------------------------

def test_portal_refusals_name_user_department_request_scope_and_reason(app, portal_home, capsys):
    r = logged_in(app, "jiaoyu").get("/extracts/download?name=assistance-check&fmt=csv&as_of=2026-10-31&scope=S1")
    assert r.status_code == 403
    r = logged_in(app, "shequ").get("/reports/view?name=population-monthly&as_of=2026-10-31&scope=C3")
    assert r.status_code == 403
    # the login form's CSRF refusal is on record too
    assert client(app).post("/login", data={"username": "shequ", "password": PASSWORD}).status_code == 403
    text = audit_text(portal_home, "--refused", capsys=capsys)
    lines = text.splitlines()
    assert any(line.split("\t")[2:8] == [
        "jiaoyu", "教育", "refused", "/extracts/download?name=assistance-check&fmt=csv&as_of=2026-10-31&scope=S1",
        "S1", "refused"] and "无权获取" in line for line in lines)
    assert any(line.split("\t")[2:8] == [
        "shequ", "社区", "refused", "/reports/view?name=population-monthly&as_of=2026-10-31&scope=C3", "C3",
        "refused"] and "不在您的辖区" in line for line in lines)
    assert any("\tshequ\t社区\tlogin_failed\t" in line and "CSRF" in line for line in lines)


def test_no_value_can_forge_a_line_of_the_audit(app, portal_home, capsys):
    c = client(app)
    login(c, "evil\n2026-01-01 00:00:00\tportal\tjiedao", "x" * 12)
    r = logged_in(app, "jiaoyu").get("/reports/view", params={"name": "a\tb\nc", "as_of": "2026-10-31"})
    assert r.status_code == 400
    text = audit_text(portal_home, capsys=capsys)
    assert all(len(line.split("\t")) == 9 for line in text.splitlines())
    assert "evil\\x0a2026-01-01" in text and "name=a\\x09b\\x0ac" in text


# --- the command line ---------------------------------------------------------------------------------

@pytest.fixture
def cli_home(tmp_path, portal_home) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(portal_home / "store.duckdb", home / "store.duckdb")
    return home


def _extract(home: Path, *extra: str, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = cli(["extract", "grid-population", "--format", "csv", "--out", str(home / "g.csv"),
                "--as-of", "2026-10-31", "--home", str(home), "--user", "wang", *extra])
    return code, capsys.readouterr().err


def test_extract_without_a_department_is_the_operators_masked_and_audited(cli_home, capsys):
    # contract §3: `onceonly extract NAME ... [--dept DEPT]` — the form without --dept is the store operator's
    code, err = _extract(cli_home, capsys=capsys)
    assert code == 0 and (cli_home / "g.csv").exists() and "未指定部门" in err and "脱敏" in err
    code, err = _extract(cli_home, "--dept", "教育", "--scope", "S2", capsys=capsys)     # outside 教育's street
    assert code == 2
    assert _extract(cli_home, "--dept", "民政", "--scope", "C1", capsys=capsys)[0] == 0
    rows = events(cli_home, source="cli", user="wang")
    refused = [e for e in rows if e["action"] == "refused"]
    assert [e["what"] for e in refused] == ["extract:grid-population.csv"]
    assert refused[0]["dept"] == "教育" and refused[0]["scope"] == "S2"
    done = [e for e in rows if e["result"] == "ok"]
    assert [(e["action"], e["dept"]) for e in done] == [("operator_extract", None), ("extract", "民政")]
    assert "本库操作员导出" in done[0]["detail"] and done[1]["scope"] == "community:C1"
    text = audit_text(cli_home, capsys=capsys)
    assert "\tcli\twang\t\toperator_extract\textract:grid-population.csv\t" in text


def test_fixes_applied_from_the_command_line_are_in_the_audit(cli_home, capsys):
    out = cli_home / "fixes.xlsx"
    assert cli(["quality", "export", "--community", "C1", "--out", str(out), "--home", str(cli_home)]) == 0
    wb = load_workbook(out)
    target, refused = issue_id(cli_home, "R-X3"), issue_id(cli_home, "R-X4")
    for ws in wb.worksheets[1:]:
        ws.protection.sheet = False
        header = [cell.value for cell in ws[2]]      # row 1: the sheet's instruction line
        for row in ws.iter_rows(min_row=3):
            if row[0].value in (target, refused):
                row[header.index("修正值")].value = "1990-02-28" if row[0].value == target else "1985-06-31"
                row[header.index("处理方式")].value = "修正"
                row[header.index("原因")].value = "核对户口本"
    wb.save(out)
    assert cli(["quality", "apply", str(out), "--by", "李四", "--home", str(cli_home)]) == 0
    rows = events(cli_home, source="cli")
    assert any(e["action"] == "export" and e["what"] == "fixes-workbook" and e["scope"] == "C1" for e in rows)
    fixes = {(e["what"], e["result"], e["user"]) for e in rows if e["action"] == "fix"}
    assert fixes == {(target, "ok", "李四"), (refused, "refused", "李四")}
    assert any(e["action"] == "apply" and e["result"] == "partial" and "接受1条 拒绝1条" in e["detail"] for e in rows)


def test_explain_is_audited_with_the_id_masked(demo_copy, capsys):
    from pipelines.store import Store
    from tests.conftest import DEMO_AS_OF

    home = demo_copy["home"]
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        person, known = conn.execute("SELECT person_key, id_number FROM core.persons WHERE id_number IS NOT NULL "
                                     "ORDER BY person_key LIMIT 1").fetchall()[0]
    as_of = ["--as-of", DEMO_AS_OF.isoformat(), "--home", str(home)]
    assert cli(["explain", known, *as_of]) == 0
    assert cli(["explain", "510104199912310011", *as_of]) == 2
    rows = events(home, source="cli")
    assert [e["what"] for e in rows if e["action"] == "explain"] == [f"person:{person}"]
    assert [e["what"] for e in rows if e["action"] == "refused"] == ["explain:510104********0011"]
    text = audit_text(home, capsys=capsys)
    assert "510104199912310011" not in text and known not in text
