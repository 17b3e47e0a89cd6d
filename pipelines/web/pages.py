"""The portal's pages. Every handler: who is asking (server-side session, re-checked account), what they may
see (department grant + jurisdiction, checked here on the server), then a short store connection.
Parameters are only ever compared with the choices the page offered; nothing from the browser is
put into SQL text or a file path. Every refusal is audited with what was asked and why; every download
once it has been sent."""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from openpyxl import Workbook, load_workbook
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from pipelines import versions
from pipelines.paths import REPORTS_DIR
from pipelines.homedb import AuditEvent, record
from pipelines.publish import FORMATS, audit, load_registry, masking
from pipelines.publish.grants import NotAvailable, Scope
from pipelines.publish.extracts import SUFFIX
from pipelines.publish.registry import GrantRefused, PublishError
from pipelines.quality import apply_workbook, export_workbook, masked_issue, pending
from pipelines.quality.queue import field_class
from pipelines.quality.rules import rule_title
from pipelines.quality.workbook import COLUMNS as WORKBOOK_COLUMNS, header_row, issue_id_in_cell
from pipelines.publish.rendered import Made, NotMade
from pipelines.reports import LISTS, TITLES
from pipelines.sources import load_catalog
from pipelines.store import dicts
from pipelines.web import csrf, sessions, throttle, users
from pipelines.web.auth import BadRequest, Forbidden, Principal, client_ip, principal_for, session_user
from pipelines.web.data import StoreGate, StoreUnavailable
from pipelines.web.delivered import Delivered
from pipelines.web.uploads import MAX_UPLOAD_BYTES, UploadRefused, check_xlsx

QUEUE_LIMIT = 200
STATUS_CN = {"open": "待处理", "fixed": "已修正", "waived": "已忽略"}
SEVERITY_CN = {"error": "错误", "warn": "警告"}
FORMAT_CN = {"xlsx": "Excel（XLSX）", "csv-excel": "CSV（Excel、WPS 双击打开）", "csv": "CSV（供程序读取）",
             "parquet": "Parquet"}
# (class, mode) -> what the extracts page says about a column's masking
MASK_CN = {("id", "前6后4"): "身份证号保留前6位和后4位", ("id", "全文"): "身份证号不脱敏（按授权）",
           ("id", "隐藏"): "身份证号隐藏", ("phone", "中间四位"): "电话隐藏中间四位",
           ("phone", "全文"): "电话不脱敏（按授权）", ("phone", "隐藏"): "电话隐藏",
           ("name", "姓氏"): "姓名只显示姓", ("name", "隐藏"): "姓名隐藏", ("address", "隐藏"): "地址隐藏"}


@dataclass
class Portal:
    home: Path
    gate: StoreGate
    env: jinja2.Environment
    max_upload: int = MAX_UPLOAD_BYTES
    downloads: dict = field(default_factory=dict)     # username -> threading.BoundedSemaphore (see download)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tmp(self) -> Path:
        d = self.home / "portal-tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def scratch(self) -> Path:
        d = self.tmp / uuid.uuid4().hex
        d.mkdir()
        return d

    def log(self, request: Request, pr: Principal | None, action: str, what: str | None, scope: str | None,
            result: str = "ok", detail: str | None = None, *, user: str | None = None,
            dept: str | None = None) -> None:
        record(self.home, AuditEvent(action, result, pr.username if pr else user, pr.dept if pr else dept, what,
                                     scope, detail, client_ip(request)))

    def deliver(self, request: Request, pr: Principal, response: Response, action: str, what: str, scope: str,
                detail: str = "") -> Delivered:
        """``response``, audited after it has been sent (with its outcome and the bytes sent)."""
        def done(result: str, sent: str) -> None:
            self.log(request, pr, action, what, scope, result, " ".join(x for x in (detail, sent) if x))
        return Delivered(response, done)


# Parameters shown with their values in the audit of a refusal (other parameters by name only; form
# fields such as a fix's value or reason, which may hold personal data, never).
_ASKED = ("name", "fmt", "as_of", "scope", "list", "community", "status", "rule", "page", "issue_id", "action")


def asked(request: Request, pr: Principal | None, form=None) -> tuple[str, str | None]:
    """(what the request asked for: path and parameters, which jurisdiction it asked for)."""
    items = list(request.query_params.multi_items())
    if form is not None:
        items += [(k, v) for k, v in form.multi_items() if k != csrf.FIELD]
    parts = [f"{k}={v}" if k in _ASKED and isinstance(v, str) else k for k, v in items]
    what = request.url.path + ("?" + "&".join(parts) if parts else "")
    scope = next((v for k, v in items if k in ("scope", "community") and isinstance(v, str) and v), None)
    if scope is None and pr is not None:
        scope = f"（未指定，默认）{pr.scope_key}"
    return what, scope


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def make_env() -> jinja2.Environment:
    # reports/templates: pages that show what a report file shows include its body (run_report_body.html.j2)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([REPORTS_DIR / "web", REPORTS_DIR / "templates"]),
                             autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["cell"] = _cell
    return env


def render(request: Request, portal: Portal, template: str, status: int = 200, pr: Principal | None = None,
           **ctx) -> HTMLResponse:
    flashes = request.session.pop("flash", []) if "flash" in request.session else []
    html = portal.env.get_template(template).render(pr=pr, csrf=csrf.token(request), flashes=flashes,
                                                    path=request.url.path, notice=portal.gate.notice(), **ctx)
    return HTMLResponse(html, status_code=status)


def flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]][-5:]


def error_page(request: Request, portal: Portal, status: int, message: str, pr: Principal | None = None):
    titles = {400: "请求无效", 403: "无权访问", 404: "没有找到", 409: "数据尚未准备好", 413: "文件太大",
              429: "操作过于频繁", 503: "暂时无法访问"}
    return render(request, portal, "error.html.j2", status=status, pr=pr, title=titles.get(status, "出错了"),
                  message=message)


def _guard(request: Request, portal: Portal, pr: Principal, fn, form=None):
    """Map refusals to pages, each audited with what was asked and why; the body says why, never what the
    refused data holds."""
    def refuse(status: int, exc: Exception, action: str = "refused", result: str = "refused"):
        what, scope = asked(request, pr, form)
        portal.log(request, pr, action, what, scope, result, str(exc))
        return error_page(request, portal, status, str(exc), pr)

    try:
        return fn()
    except (Forbidden, GrantRefused) as exc:
        return refuse(403, exc)
    except BadRequest as exc:
        return refuse(400, exc)
    except NotAvailable as exc:
        return refuse(409, exc, "unavailable", "error")
    except PublishError as exc:
        return refuse(400, exc)
    except StoreUnavailable as exc:
        return refuse(503, exc, "unavailable", "error")
    except UploadRefused as exc:
        return refuse(400, exc, "upload")


def _to_login(request: Request, portal: Portal, form=None):
    """Not logged in, or the session has ended: to the login page. Audited as a refusal (naming whose
    session a replayed cookie was), except a first visit to the home page."""
    s = sessions.current(request)
    if s.ended or request.url.path != "/":
        if s.ended:
            at = dt.datetime.fromtimestamp(s.ended_at).isoformat(sep=" ", timespec="seconds") if s.ended_at else ""
            why = f"会话已结束（{sessions.ENDED_CN.get(s.ended, s.ended)}{'，' + at if at else ''}），请求被拒绝"
        else:
            why = "未登录"
        account = users.get_user(portal.home, s.ended_user) if s.ended_user else None
        what, scope = asked(request, None, form)
        portal.log(request, None, "refused", what, scope, "refused", why, user=s.ended_user,
                   dept=account.dept if account else None)
    return RedirectResponse("/login?timeout=1" if s.ended in ("idle", "lifetime") else "/login", status_code=303)


def page(fn):
    """A GET page for logged-in users (runs in a worker thread)."""
    @functools.wraps(fn)
    def endpoint(request: Request):
        portal: Portal = request.app.state.portal
        user = session_user(request, portal.home)
        if user is None:
            return _to_login(request, portal)
        pr = principal_for(user)
        return _guard(request, portal, pr, lambda: fn(request, portal, pr))
    return endpoint


# Files each user may have in the making at once (a file not yet made for this store version: XLSX, a city's
# extract); more wait, up to DOWNLOAD_WAIT_S, holding no worker thread, so one user's burst of exports cannot take
# the server's threads from everyone else's pages. A file already made is handed out at once.
DOWNLOADS_PER_USER = 2
DOWNLOAD_WAIT_S = 120


def download(fn):
    """A GET download for logged-in users. ``fn`` first runs with ``request.state.make`` False: a file already made
    is sent; one still to make (:class:`NotMade`) waits for one of the user's DOWNLOADS_PER_USER slots, then ``fn``
    runs again and makes it."""
    @functools.wraps(fn)
    async def endpoint(request: Request):
        portal: Portal = request.app.state.portal
        user = await run_in_threadpool(session_user, request, portal.home)
        if user is None:
            return await run_in_threadpool(_to_login, request, portal)
        pr = principal_for(user)

        def work():
            return _guard(request, portal, pr, lambda: fn(request, portal, pr))
        request.state.make = False
        try:
            return await run_in_threadpool(work)
        except NotMade:
            pass
        with portal.lock:
            slots = portal.downloads.setdefault(user.username, threading.BoundedSemaphore(DOWNLOADS_PER_USER))
        # polled, not awaited: a thread's semaphore serves every event loop and thread of the server
        deadline = time.monotonic() + DOWNLOAD_WAIT_S
        while not slots.acquire(blocking=False):
            if time.monotonic() >= deadline:
                message = f"您已有 {DOWNLOADS_PER_USER} 个文件正在生成，请等它们完成后再下载。"
                what, scope = asked(request, pr)
                await run_in_threadpool(portal.log, request, pr, "refused", what, scope, "refused", message)
                return error_page(request, portal, 429, message, pr)
            await asyncio.sleep(0.05)
        try:
            request.state.make = True
            return await run_in_threadpool(work)
        finally:
            slots.release()
    return endpoint


def action(max_body: int = 64 * 1024):
    """A POST for logged-in users: size cap, CSRF check, then the work in a worker thread."""
    def wrap(fn):
        @functools.wraps(fn)
        async def endpoint(request: Request):
            portal: Portal = request.app.state.portal
            limit = max_body if max_body else portal.max_upload + 64 * 1024
            too_big = _too_big(request, limit)
            user = await run_in_threadpool(session_user, request, portal.home)
            if user is None:
                # what a replayed cookie tried to post is worth recording, if the body is small and plain
                form = None
                if not (too_big or _too_big(request, 64 * 1024)):
                    try:
                        form = await request.form(max_files=0, max_fields=20, max_part_size=4096)
                    except HTTPException:       # a file or too many fields: recorded without the form
                        form = None
                return await run_in_threadpool(_to_login, request, portal, form)
            pr = principal_for(user)
            if too_big:
                what, scope = asked(request, pr)
                await run_in_threadpool(portal.log, request, pr, "refused", what, scope, "refused", too_big)
                return error_page(request, portal, 413, too_big, pr)
            form = await request.form(max_files=1, max_fields=20, max_part_size=64 * 1024)
            try:
                if not csrf.valid(request, form.get(csrf.FIELD)):
                    what, scope = asked(request, pr, form)
                    await run_in_threadpool(portal.log, request, pr, "refused", what, scope, "refused",
                                            "安全校验失败（CSRF 令牌缺失、错误或来自其他网站）")
                    return error_page(request, portal, 403, "页面已过期或请求来源不明（安全校验失败），请刷新页面后重试。", pr)
                return await run_in_threadpool(_guard, request, portal, pr, lambda: fn(request, portal, pr, form),
                                               form)
            finally:
                await form.close()
        return endpoint
    return wrap


def _too_big(request: Request, limit: int) -> str | None:
    length = request.headers.get("content-length")
    if length is None:
        return "请求缺少长度信息，已拒收。"
    try:
        n = int(length)
    except ValueError:
        return "请求长度无效，已拒收。"
    if n > limit:
        return f"上传内容太大（{n // 1024} KB），上限为 {limit // 1024} KB。请只上传从本系统下载的问题修正表。"
    return None


def _text(form, name: str, max_len: int = 200) -> str:
    v = form.get(name)
    if not isinstance(v, str):
        return ""
    v = v.strip()
    if len(v) > max_len:
        raise BadRequest(f"填写的内容过长（最多 {max_len} 个字）。")
    return v


# --- login -------------------------------------------------------------------------------------

def login_form(request: Request):
    portal: Portal = request.app.state.portal
    if session_user(request, portal.home) is not None:
        return RedirectResponse("/", status_code=303)
    minutes = request.app.state.sessions.idle_minutes
    note = f"长时间（{minutes:g} 分钟）未操作，已自动退出，请重新登录。" if request.query_params.get("timeout") else None
    return render(request, portal, "login.html.j2", note=note)


def _wait_cn(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{-(-seconds // 60)} 分钟"


async def login_submit(request: Request):
    portal: Portal = request.app.state.portal
    too_big = _too_big(request, 16 * 1024)
    if too_big:
        await run_in_threadpool(portal.log, request, None, "login_failed", "/login", None, "refused", too_big)
        return error_page(request, portal, 413, "请求过大。")
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:256]
    ip = client_ip(request)

    def work():
        account = users.get_user(portal.home, username)
        dept = account.dept if account else None
        if not csrf.valid(request, form.get(csrf.FIELD)):
            portal.log(request, None, "login_failed", "/login", None, "refused",
                       "登录表单安全校验失败（CSRF：页面已过期、会话已结束或请求来自其他网站）", user=username, dept=dept)
            return error_page(request, portal, 403, "页面已过期（安全校验失败），请刷新登录页后重试。")
        decision = throttle.begin(portal.home, username, ip)
        if not decision.allowed:
            portal.log(request, None, "login_failed", "/login", None, "refused",
                       f"登录尝试过于频繁，未核对密码：{decision.why}；{decision.retry_after} 秒后可再试",
                       user=username, dept=dept)
            page = error_page(request, portal, 429, f"登录尝试过于频繁，请 {_wait_cn(decision.retry_after)}后再试。")
            page.headers["Retry-After"] = str(decision.retry_after)
            return page
        user = users.verify_password(portal.home, username, password)
        if user is None:
            portal.log(request, None, "login_failed", "/login", None, "refused", "用户名或密码错误，或账号已停用",
                       user=username, dept=dept)
            return render(request, portal, "login.html.j2", status=401, error="用户名或密码错误，或账号已停用。",
                          username=username)
        throttle.succeeded(portal.home, username, ip)
        sessions.current(request).begin(user.username)      # a new session id and CSRF token: no fixation
        portal.log(request, principal_for(user), "login", None, f"{user.scope_level}:{user.scope_code}")
        return RedirectResponse("/", status_code=303)
    return await run_in_threadpool(work)


@action()
def logout(request: Request, portal: Portal, pr: Principal, form):
    portal.log(request, pr, "logout", None, pr.scope_key)
    sessions.current(request).end("logout")
    return RedirectResponse("/login", status_code=303)


# --- home ----------------------------------------------------------------------------------------

def _issue_counts(conn, portal: Portal, status: str, communities: list[str]) -> list[tuple[str, int]]:
    """(rule, issues) of one status in these communities, the decisions waiting for the next build applied: from
    the version's aggregate when none wait, else from the issues themselves."""
    issues, _ = pending.overlay(conn, portal.home)
    src = ("marts.portal_issue_counts" if issues == "quality.issues" else
           f"(SELECT community_code, status, rule, count(*) AS n FROM {issues} GROUP BY ALL)")
    return conn.execute(f"SELECT rule, sum(n)::BIGINT FROM {src} WHERE status = ? AND list_contains(?, community_code) "
                        "GROUP BY rule ORDER BY rule", [status, communities]).fetchall()


@page
def home(request: Request, portal: Portal, pr: Principal):
    reg = load_registry()
    info: dict = {"open_issues": None, "last_load": None, "dates": []}
    pr.areas, info["dates"] = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)
    with portal.gate.read() as conn:
        if pr.can_steward and portal.gate.has("marts.portal_issue_counts"):
            info["open_issues"] = sum(n for _, n in _issue_counts(conn, portal, "open", sorted(pr.community_codes)))
        if pr.can_see_runs and portal.gate.has("raw.batches"):
            info["last_load"] = conn.execute("SELECT max(loaded_at) FROM raw.batches").fetchall()[0][0]
    reports = [(n, TITLES.get(n, n)) for n in pr.department.reports]
    extracts = [(n, reg.extracts[n].title) for n in pr.department.extracts]
    portal.log(request, pr, "view", "home", pr.scope_key)
    return render(request, portal, "home.html.j2", pr=pr, reports=reports, extracts=extracts, info=info)


# --- reports -------------------------------------------------------------------------------------

def _report_params(request: Request, portal: Portal, pr: Principal, required: bool):
    q = request.query_params
    name = q.get("name") or ""
    pr.areas, dates = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)
    if not name and not required:
        return None, (dates[0] if dates else None), pr.area(None), dates
    if name not in TITLES:
        raise BadRequest("没有这个报表，请从列表中选择。")
    if name not in pr.department.reports:
        allowed = "、".join(TITLES[r] for r in pr.department.reports) or "无"
        raise Forbidden(f"{pr.dept}（{pr.department.title}）无权获取报表“{TITLES[name]}”。该部门可获取的报表：{allowed}。")
    as_of = q.get("as_of") or (dates[0] if dates else "")
    if as_of not in dates:
        raise BadRequest("统计截止日期无效，请从列表中选择库中已有的日期。")
    return name, as_of, pr.area(q.get("scope")), dates


@page
def reports_page(request: Request, portal: Portal, pr: Principal):
    name, as_of, area, dates = _report_params(request, portal, pr, required=False)
    query = urlencode({"name": name, "as_of": as_of, "scope": area.code}) if name else None
    # Titles only: row counts would mean rendering the report for the page as well as for the frame.
    lists = [(title, urlencode({"name": name, "as_of": as_of, "scope": area.code, "list": key}))
             for key, title in LISTS.get(name or "", {}).items()]
    portal.log(request, pr, "view", f"report-page:{name or ''}", f"{area.level}:{area.code}")
    return render(request, portal, "reports.html.j2", pr=pr, reports=[(n, TITLES[n]) for n in pr.department.reports],
                  dates=dates, name=name, as_of=as_of, area=area, query=query, title=TITLES.get(name or "", ""),
                  lists=lists)


def _report_file(request: Request, portal: Portal, pr: Principal, pick) -> tuple[Made, str, str, str | None]:
    """One file of a report for the user's chosen jurisdiction — made once per store version for everyone of that
    jurisdiction whose department shows values alike (pipelines/publish/rendered.py; the build makes them) — and
    its handout recorded for this user. ``pick(made files, name)`` chooses the file. Returns (file, name, as-of,
    version)."""
    # Checked before the store is touched: a refused request reads nothing.
    name, as_of, area, _ = _report_params(request, portal, pr, required=True)
    scope = Scope(area.level, area.code, area.name)      # within the user's jurisdiction (pr.area)
    shown = load_registry().report_masking(pr.dept)
    with portal.gate.files() as (files, version, open_conn):
        made = pick(files.report(open_conn, name, dt.date.fromisoformat(as_of), scope, shown,
                                 make=getattr(request.state, "make", True)), name)
    audit.record(portal.home, kind="report", name=made.name, department=pr.dept, user=pr.username, scope=made.scope,
                 as_of=as_of, fmt=made.fmt, row_count=made.row_count, columns=made.columns, path=made.path,
                 sha256=made.sha256, version=version)
    return made, name, as_of, version


def _kind(fmt: str):
    return lambda made, name: next(m for m in made if m.name == name and m.fmt == fmt)


@page
def report_view(request: Request, portal: Portal, pr: Principal):
    made, name, as_of, _ = _report_file(request, portal, pr, _kind("html"))
    # The report's own page carries inline styles; it runs no script and is framed only by the portal.
    return portal.deliver(request, pr, HTMLResponse(made.path.read_text(encoding="utf-8"), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"}),
        "view", f"report:{name}.html", made.scope, f"截止 {as_of}")


@download
def report_download(request: Request, portal: Portal, pr: Principal):
    made, name, as_of, _ = _report_file(request, portal, pr, _kind("xlsx"))
    # streamed from the version's file; audited once it has been sent
    return portal.deliver(request, pr, FileResponse(
        made.path, filename=f"{TITLES[name]}_{as_of}.xlsx".replace("/", "_"),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "download", f"report:{name}.xlsx", made.scope, f"截止 {as_of} sha256={made.sha256[:16]}")


@download
def report_list(request: Request, portal: Portal, pr: Principal):
    """One person list of a report (<stem>-<key>.csv), the file the report's note points the reader to."""
    name, as_of, area, _ = _report_params(request, portal, pr, required=True)
    key = request.query_params.get("list") or ""
    lists = LISTS.get(name, {})
    if key not in lists:
        # the key is not echoed back: only choices the page offered are ever shown
        have = "、".join(f"“{t}”" for t in lists.values())
        message = (f"报表“{TITLES[name]}”没有这个名单。" +
                   (f"该报表附带的名单：{have}。请从报表页面的链接下载。" if have else "该报表不附带人员名单。"))
        what, _ = asked(request, pr)
        portal.log(request, pr, "refused", what, f"{area.level}:{area.code}", "refused", message)
        return error_page(request, portal, 404, message, pr)
    made, *_ = _report_file(request, portal, pr, lambda made, name: next(m for m in made if m.name == f"{name}-{key}"))
    return portal.deliver(request, pr, FileResponse(
        made.path, filename=f"{TITLES[name]}_{lists[key]}_{as_of}.csv".replace("/", "_"),
        media_type="text/csv; charset=utf-8"),
        "download", f"report-list:{name}-{key}", made.scope, f"截止 {as_of} sha256={made.sha256[:16]}")


# --- extracts ------------------------------------------------------------------------------------

@page
def extracts_page(request: Request, portal: Portal, pr: Principal):
    reg = load_registry()
    pr.areas, dates = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)
    granted = []
    for name, grant in pr.department.extracts.items():
        if grant.users is not None and pr.username not in grant.users:
            continue
        spec = reg.extracts[name]
        masks = sorted({MASK_CN.get((c.kind, shown), shown) for c in spec.columns if c.name in grant.columns
                        for shown in [masking.describe(c.kind, grant.masking)] if shown})
        granted.append({"name": name, "title": spec.title, "columns": grant.columns, "masks": masks})
    portal.log(request, pr, "view", "extracts", pr.scope_key)
    return render(request, portal, "extracts.html.j2", pr=pr, granted=granted, dates=dates,
                  formats=[(f, FORMAT_CN[f]) for f in FORMATS])


@download
def extract_download(request: Request, portal: Portal, pr: Principal):
    q = request.query_params
    reg = load_registry()
    name, fmt = q.get("name") or "", q.get("fmt") or ""
    if name not in reg.extracts:
        raise BadRequest("没有这个数据提取，请从列表中选择。")
    if fmt not in FORMATS:
        raise BadRequest(f"格式无效，可选：{'、'.join(FORMAT_CN.values())}。")
    reg.grant(pr.dept, name, pr.username)        # GrantRefused outside the department's grant

    pr.areas, dates = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)
    as_of = q.get("as_of") or (dates[0] if dates else "")
    if as_of not in dates:
        raise BadRequest("统计截止日期无效，请从列表中选择库中已有的日期。")
    area = pr.area(q.get("scope"))
    with portal.gate.files() as (files, version, open_conn):
        made = files.extract(open_conn, name, fmt, dept=pr.dept, user=pr.username, scope=area.code,
                             as_of=dt.date.fromisoformat(as_of), make=request.state.make)
    audit.record(portal.home, kind="extract", name=name, department=pr.dept, user=pr.username, scope=made.scope,
                 as_of=as_of, fmt=fmt, row_count=made.row_count, columns=made.columns, path=made.path,
                 sha256=made.sha256, version=version)
    media = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[SUFFIX[fmt]]
    # streamed from the file in chunks, whatever its size; audited once it has been sent
    return portal.deliver(request, pr, FileResponse(
        made.path, filename=f"{reg.extracts[name].title}_{area.name}_{as_of}.{SUFFIX[fmt]}", media_type=media),
        "download", f"extract:{name}.{fmt}", made.scope,
        f"截止 {as_of} {made.row_count}行 sha256={made.sha256[:16]}")


# --- steward queue -------------------------------------------------------------------------------

def _queue_filters(source, pr: Principal) -> dict:
    status = source.get("status") or "open"
    if status not in STATUS_CN:
        raise BadRequest("状态无效。")
    community = source.get("community") or ""
    if community and community not in pr.community_codes:
        raise Forbidden("所选社区不在您的辖区内。")
    rule = source.get("rule") or ""
    if len(rule) > 64:
        raise BadRequest("问题类型无效。")
    return {"status": status, "community": community, "rule": rule}


@page
def queue_page(request: Request, portal: Portal, pr: Principal):
    pr.require_steward()
    with portal.gate.read() as conn:
        pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
        f = _queue_filters(request.query_params, pr)
        page = request.query_params.get("page") or "1"
        if not page.isdigit() or not 1 <= int(page) <= 1_000_000:
            raise BadRequest("页码无效。")
        page = int(page)
        communities = sorted(pr.community_codes) if not f["community"] else [f["community"]]
        rows, rules, total = [], [], 0
        if portal.gate.has("marts.portal_issue_counts"):
            rules = _issue_counts(conn, portal, f["status"], communities)
            if f["rule"] and f["rule"] not in {r for r, _ in rules}:
                f["rule"] = ""
            total = sum(n for r, n in rules if not f["rule"] or r == f["rule"])
            issues, corrections = pending.overlay(conn, portal.home)
            where = ("status = ? AND list_contains(?, community_code) AND (?::VARCHAR = '' OR rule = ?)")
            params = [f["status"], communities, f["rule"], f["rule"]]
            has_batches = portal.gate.has("raw.batches")
            has_corr = portal.gate.has("quality.active_corrections")
            cur = conn.execute(f"""
                SELECT i.issue_id, i.community_name, i.rule, i.severity, i.template,
                       {'b.file_name' if has_batches else 'NULL'} AS file_name, i.row_no, i.record_no, i.field,
                       i.value, i.message, i.suggested_fix, i.status,
                       {'c.new_value, c.reason, c."by", c."at"' if has_corr else 'NULL, NULL, NULL, NULL'}
                FROM (SELECT * FROM {issues} WHERE {where}) i
                {'LEFT JOIN raw.batches b ON b.batch_id = i.batch_id' if has_batches else ''}
                {f'LEFT JOIN {corrections} c ON c.issue_id = i.issue_id' if has_corr else ''}
                ORDER BY i.community_code, i.rule, i.template, i.batch_id, i.row_no, i.issue_id
                LIMIT {QUEUE_LIMIT} OFFSET {(page - 1) * QUEUE_LIMIT}""", params)
            shown = load_registry().queue_masking(pr.dept, pr.username)
            rows = []
            for issue in dicts(cur):
                row = masked_issue(issue, shown)
                # the fix form starts from the suggestion only when it is shown whole
                row["prefill"] = row["suggested_fix"] if row["suggested_fix"] == issue["suggested_fix"] else None
                rows.append(row)
    portal.log(request, pr, "view", "queue", f"community:{f['community']}" if f["community"] else pr.scope_key,
               detail=f"status={f['status']} rule={f['rule']}")
    back = urlencode({k: v for k, v in f.items() if v})
    return render(request, portal, "queue.html.j2", pr=pr, rows=rows, rules=rules, total=total, limit=QUEUE_LIMIT,
                  rule_title=rule_title, page=page, pages=max(1, -(-total // QUEUE_LIMIT)),
                  f=f, back=back, status_cn=STATUS_CN, severity_cn=SEVERITY_CN,
                  communities=[a for a in pr.areas if a.level == "community"])


@page
def queue_progress(request: Request, portal: Portal, pr: Principal):
    """问题处理进度 (``onceonly quality progress`` in the portal): per community of the user's jurisdiction the issues
    open, fixed and waived, per kind, the oldest open one, and the counts over the last rebuilds."""
    from pipelines.quality import progress

    pr.require_steward()
    pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
    community = request.query_params.get("community") or ""
    if community and community not in pr.community_codes:
        raise Forbidden("所选社区不在您的辖区内。")
    p, oldest = None, None
    with portal.gate.read() as conn:
        if portal.gate.has("quality.issues"):
            issues, _ = pending.overlay(conn, portal.home)
            p = progress(conn, community or None, runs=12, communities=sorted(pr.community_codes), issues=issues)
    if p and p["oldest"]:
        issue_id, rule, first_seen, message, field, value = p["oldest"]
        oldest = masked_issue({"issue_id": issue_id, "rule": rule, "first_seen": first_seen, "message": message,
                               "field": field, "value": value}, load_registry().queue_masking(pr.dept, pr.username))
    portal.log(request, pr, "view", "queue-progress", f"community:{community}" if community else pr.scope_key)
    return render(request, portal, "queue_progress.html.j2", pr=pr, p=p, oldest=oldest, community=community,
                  communities=[a for a in pr.areas if a.level == "community"], rule_title=rule_title)


@page
def queue_addresses(request: Request, portal: Portal, pr: Principal):
    """Addresses no house was found for, grouped by what is unknown, with a form to settle a compound's or a
    road's spelling once (pipelines.address.aliases)."""
    from pipelines.address.aliases import masked_groups, unknown_groups

    pr.require_steward()
    pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
    with portal.gate.read(macros=True) as conn:
        community = request.query_params.get("community") or ""
        if community and community not in pr.community_codes:
            raise Forbidden("所选社区不在您的辖区内。")
        groups = unknown_groups(conn, communities=[community] if community else sorted(pr.community_codes))
    groups = masked_groups(groups, load_registry().queue_masking(pr.dept, pr.username))
    portal.log(request, pr, "view", "queue-addresses", f"community:{community}" if community else pr.scope_key)
    return render(request, portal, "queue_addresses.html.j2", pr=pr, groups=groups[:QUEUE_LIMIT], total=len(groups),
                  rows=sum(g["rows"] for g in groups), community=community,
                  communities=[a for a in pr.areas if a.level == "community"])


@action()
def queue_address_alias(request: Request, portal: Portal, pr: Principal, form):
    from pipelines.address.aliases import AliasRefused, record_alias, unknown_groups

    pr.require_steward()
    kind = _text(form, "kind", 10)
    spelling = _text(form, "spelling", 200)
    target = _text(form, "target", 200)
    reason = _text(form, "reason", 500)
    if kind not in ("compound", "road"):
        raise BadRequest("只能认定小区或道路的写法。")
    pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
    # checked on the live version, kept in the home's database for the next build (pipelines/quality/pending.py)
    with portal.gate.read(macros=True) as conn:
        mine = {(g["kind"], g["spelling"]) for g in unknown_groups(conn, communities=sorted(pr.community_codes))}
        if (kind, spelling) not in mine:
            raise Forbidden("这个写法不在您辖区的未匹配地址中（可能已经认定或已重新计算），请刷新页面。")
        if not target or not reason:
            flash(request, "error", "请填写实有房屋中的名称和认定依据（例如：现场核实）。")
            return RedirectResponse("/queue/addresses", status_code=303)
        try:
            decision = record_alias(conn, kind, spelling, target, by=pr.username, reason=reason, home=portal.home)
        except AliasRefused as exc:
            portal.log(request, pr, "alias", spelling, pr.scope_key, "refused", str(exc))
            flash(request, "error", f"未能认定：{exc}")
            return RedirectResponse("/queue/addresses", status_code=303)
    portal.log(request, pr, "alias", spelling, pr.scope_key, detail=decision.describe())
    flash(request, "ok", f"已记录：{decision.describe()}。下一次数据处理（onceonly run）后，所有同样写法的地址都按此匹配。")
    return RedirectResponse("/queue/addresses", status_code=303)


def _one_row_workbook(path: Path, issue_id: str, act: str, value: str, reason: str) -> None:
    """The stewards' workbook with one row: the inline fix goes through the same validation as an upload."""
    headers = [h for h, _ in WORKBOOK_COLUMNS]
    row = [None] * len(headers)
    row[headers.index("问题编号")] = issue_id
    row[headers.index("处理方式")] = act
    row[headers.index("修正值")] = value or None
    row[headers.index("原因")] = reason
    wb = Workbook()
    ws = wb.active
    ws.title = "web"
    ws.append(headers)
    ws.append(row)
    wb.save(path)


@action()
def queue_fix(request: Request, portal: Portal, pr: Principal, form):
    pr.require_steward()
    issue_id = _text(form, "issue_id", 64)
    act = _text(form, "action", 10)
    value = _text(form, "value", 200)
    reason = _text(form, "reason", 500)
    if act not in ("修正", "忽略"):
        raise BadRequest("处理方式只能是“修正”或“忽略”。")
    with portal.gate.read(macros=True) as conn:
        pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
        back = urlencode({k: v for k, v in _queue_filters(form, pr).items() if v})
        found = conn.execute("SELECT community_code, field FROM quality.issues WHERE issue_id = ?",
                             [issue_id]).fetchall() if portal.gate.has("quality.issues") else []
        if not found:
            raise BadRequest("找不到这个问题（可能已经处理或已重新计算），请刷新页面。")
        if found[0][0] not in pr.community_codes:
            raise Forbidden("这个问题不在您的辖区内。")
        if not reason:
            flash(request, "error", "请填写原因（例如：核对身份证原件）。")
            return RedirectResponse(f"/queue?{back}", status_code=303)
        path = portal.scratch() / "fix.xlsx"
        _one_row_workbook(path, issue_id, act, value, reason)
        # kept in the home's database: the store is only read; the next build applies it
        result = apply_workbook(conn, path, by=pr.username, home=portal.home)
    shutil.rmtree(path.parent, ignore_errors=True)
    kind = "fix" if act == "修正" else "waive"
    # the audit names the fix as the default masking shows it: the store's corrections keep the value
    logged = masking.mask_value(value, field_class(found[0][1]), masking.DEFAULT)
    if result.accepted:
        portal.log(request, pr, kind, issue_id, f"community:{found[0][0]}",
                   detail=f"值={logged} 原因={masking.mask_text(reason)}")
        flash(request, "ok", f"已{act}。修正会在下一次数据处理（onceonly run）后生效，并在以后每次处理时自动套用。")
    elif result.refused:
        why = masking.mask_text(result.refused[0][3])
        portal.log(request, pr, kind, issue_id, f"community:{found[0][0]}", "refused", why)
        flash(request, "error", f"未能{act}：{why}")
    else:
        flash(request, "ok", "这条问题已经按同样方式处理过，无需重复提交。")
    return RedirectResponse(f"/queue?{back}", status_code=303)


@page
def queue_export(request: Request, portal: Portal, pr: Principal):
    pr.require_steward()
    with portal.gate.read() as conn:
        pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
        comms = [a for a in pr.areas if a.level == "community"]
        code = request.query_params.get("community") or (comms[0].code if len(comms) == 1 else "")
        if not code:
            raise BadRequest("请先选择一个社区，再下载问题修正表。")
        if code not in pr.community_codes:
            raise Forbidden("所选社区不在您的辖区内。")
        if not portal.gate.has("quality.issues"):
            raise BadRequest("还没有数据问题清单，请等待数据处理完成。")
        out = portal.scratch() / "fixes.xlsx"
        # issues decided in the portal since the last build are not offered again
        n = export_workbook(conn, out, community=code, issues=pending.overlay(conn, portal.home)[0],
                            masking=load_registry().queue_masking(pr.dept, pr.username))
    name = next(a.name for a in comms if a.code == code)
    return portal.deliver(request, pr, FileResponse(
        out, filename=f"问题修正表_{name}.xlsx",
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(shutil.rmtree, out.parent, True)),
        "download", "fixes-workbook", f"community:{code}", f"{n}条问题")


def _workbook_issue_ids(path: Path) -> list[str]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise UploadRefused("无法读取这个 Excel 文件，请使用从本系统下载的问题修正表。") from None
    ids: list[str] = []
    try:
        for sh in wb.worksheets:
            rows = sh.iter_rows(values_only=True)
            found = header_row(rows)       # row 2 under the sheet's instruction line (row 1 in older exports)
            if found is None:
                continue
            ix = found[1].index("问题编号")
            ids += [issue_id_in_cell(r[ix]) for r in rows if ix < len(r) and r[ix] is not None and str(r[ix]).strip()]
    finally:
        wb.close()
    return ids


@action(max_body=0)
def queue_upload(request: Request, portal: Portal, pr: Principal, form):
    pr.require_steward()
    upload = form.get("workbook")
    if upload is None or isinstance(upload, str):
        raise BadRequest("请选择要上传的问题修正表（.xlsx）。")
    data = upload.file.read(portal.max_upload + 1)
    check_xlsx(data, max_bytes=portal.max_upload)
    path = portal.scratch() / "upload.xlsx"
    path.write_bytes(data)
    try:
        ids = _workbook_issue_ids(path)
        with portal.gate.read(macros=True) as conn:
            pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
            if not portal.gate.has("quality.issues"):
                raise BadRequest("还没有数据问题清单，请等待数据处理完成。")
            outside = conn.execute(
                "SELECT count(*) FROM quality.issues WHERE list_contains(?, issue_id) "
                "AND NOT list_contains(?, community_code)", [ids, sorted(pr.community_codes)]).fetchall()[0][0]
            if outside:
                raise Forbidden(f"表格中有 {outside} 条问题不属于您的辖区，整张表格未导入。请只提交本辖区的问题修正表。")
            result = apply_workbook(conn, path, by=pr.username, home=portal.home)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    for sheet, row, issue in result.accepted:    # each fix in the audit, as the command line records them
        portal.log(request, pr, "fix", issue, pr.scope_key, detail=f"{upload.filename} 工作表“{sheet}”第{row}行")
    portal.log(request, pr, "upload", "fixes-workbook", pr.scope_key,
               "ok" if not result.refused else "partial",
               f"导入{len(result.accepted)}条 拒收{len(result.refused)}条 未变{result.unchanged}条")
    return render(request, portal, "upload_result.html.j2", pr=pr, result=result)


# --- scorecard and run status ----------------------------------------------------------------------

SCORECARD_COLUMNS = [("template", "数据来源"), ("community_name", "社区"), ("newest_evidence", "最新材料日期"),
                     ("evidence_age_days", "距今天数"), ("records", "记录数"), ("share_valid_ids", "身份证号有效率"),
                     ("addresses", "地址数"), ("share_addresses_matched", "地址匹配率"), ("batches", "批次"),
                     ("files_rejected", "拒收文件"), ("rows_loaded", "入库行数"), ("rows_rejected", "拒收行数")]


@page
def scorecard_page(request: Request, portal: Portal, pr: Principal):
    pr.require_steward()
    titles = {t.name: t.title for t in load_catalog()}
    rows, as_of = [], None
    with portal.gate.read() as conn:
        pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
        if portal.gate.has("quality.scorecard"):
            # rows without a community are per-source totals: street staff see them, a community does not
            cur = conn.execute(
                "SELECT * FROM quality.scorecard WHERE list_contains(?, community_code) "
                "OR (community_code IS NULL AND ?) ORDER BY template, community_code NULLS FIRST",
                [sorted(pr.community_codes), pr.user.scope_level == "street"])
            rows = dicts(cur)
            as_of = rows[0]["as_of"] if rows else None
    for r in rows:
        r["template"] = titles.get(r["template"], r["template"])
        r["community_name"] = r["community_name"] or "（全部）"
    portal.log(request, pr, "view", "scorecard", pr.scope_key)
    return render(request, portal, "scorecard.html.j2", pr=pr, rows=rows, columns=SCORECARD_COLUMNS, as_of=as_of)


@page
def runs_page(request: Request, portal: Portal, pr: Principal):
    pr.require_operator()
    titles = {t.name: t.title for t in load_catalog()}
    batches, summary, dates = [], None, []
    with portal.gate.read() as conn:
        if portal.gate.has("raw.batches"):
            batches = [dict(zip(("loaded_at", "template", "file_name", "status", "rows_read", "rows_loaded",
                                 "rows_rejected", "message"), r)) for r in conn.execute(
                "SELECT loaded_at, template, file_name, status, rows_read, rows_loaded, rows_rejected, message "
                "FROM raw.batches ORDER BY loaded_at DESC, file_name LIMIT 50").fetchall()]
            summary = dict(zip(("files", "loaded", "rejected", "rows_loaded", "rows_rejected", "last"), conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = 'rejected'), "
                "coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0), max(loaded_at) FROM raw.batches"
            ).fetchall()[0]))
    dates = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[1]
    for b in batches:
        b["template"] = titles.get(b["template"], b["template"])
        b["message"] = masking.mask_text(b["message"])     # a refusal may quote the file's cells
    building = portal.gate.building()
    history = [{"id": v.id, "state": "当前版本" if v.live else versions.STATE_CN.get(v.state, v.state),
                "live": v.live, "started": v.record.get("started_at"), "built": v.built_at, "as_of": v.as_of,
                "new": [b[0] for b in v.record.get("new_batches") or []],
                "files": (v.record.get("batches") or {}).get("files"), "error": masking.mask_text(v.record.get("error")),
                "kept": v.has_store or v.live} for v in versions.list_versions(portal.home)[:10]]
    portal.log(request, pr, "view", "runs", pr.scope_key)
    return render(request, portal, "runs.html.j2", pr=pr, batches=batches, summary=summary, dates=dates,
                  live=portal.gate.version(), history=history, building=building, keep=versions.keep_versions())


@page
def run_report_page(request: Request, portal: Portal, pr: Principal):
    """运行报告 of the live version (pipelines/reports/run_report.py): like the runs page, for the street office
    only; the comparison limited to the user's communities; quoted cells masked as the runs page masks them."""
    from pipelines.reports import run_report

    pr.require_operator()
    pr.areas = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)[0]
    data = None
    with portal.gate.read() as conn:
        if portal.gate.has("marts.run_files") and portal.gate.has("marts.run_meta"):
            data = run_report.view(conn, communities=sorted(pr.community_codes))
            data["unit"] = pr.area(None).name
    portal.log(request, pr, "view", "run-report", pr.scope_key)
    return render(request, portal, "run_report.html.j2", pr=pr, data=data, as_of_cn=run_report.as_of_cn)


# --- follow-up tasks -----------------------------------------------------------------------------

TASKS_EXTRACT = "verification-tasks"


def _tasks_params(request: Request, portal: Portal, pr: Principal):
    """(as-of, area) for the task pages: only departments granted the verification tasks, within their areas."""
    if TASKS_EXTRACT not in pr.department.extracts:
        raise Forbidden(f"{pr.dept}（{pr.department.title}）无权查看走访核查任务。")
    load_registry().grant(pr.dept, TASKS_EXTRACT, pr.username)
    pr.areas, dates = portal.gate.choices(pr.user.scope_level, pr.user.scope_code)
    as_of = request.query_params.get("as_of") or (dates[0] if dates else "")
    if as_of not in dates:
        raise BadRequest("统计截止日期无效，请从列表中选择库中已有的日期。")
    return as_of, pr.area(request.query_params.get("scope")), dates


@page
def tasks_page(request: Request, portal: Portal, pr: Principal):
    """走访核查: progress per grid against the previous build, the chart, each grid's printable task list,
    and the tasks closed this period with the record that closed each."""
    import base64

    from pipelines.publish.grants import narrow, prepare, resolve_scope
    from pipelines.reports.families import task_progress

    as_of, area, dates = _tasks_params(request, portal, pr)
    day = dt.date.fromisoformat(as_of)
    with portal.gate.read(macros=True) as conn:
        prepare(conn, day)
        narrow(conn, resolve_scope(conn, pr.department, area.code))
        sections = task_progress(conn, day)
        closed = conn.execute("""
            SELECT t.task_id, g.grid_name, t.house_code, t.resolution, t.closing_detail, t.opened_on, t.days
            FROM marts.tasks t
            JOIN (SELECT DISTINCT grid_code, grid_name FROM rp_grids) g USING (grid_code)
            WHERE t.kind = 'verify' AND t.state = 'closed'
              AND t.closed_on > coalesce(getvariable('prev_as_of')::DATE, DATE '0001-01-01')
            ORDER BY t.closed_on DESC, g.grid_name, t.house_code, t.task_id
            LIMIT 200""").fetchall()
    section = sections[0] if sections else None
    chart = None
    if section is not None and section.chart is not None:
        chart = "data:image/png;base64," + base64.b64encode(section.chart.png).decode("ascii")
    grid_col = [c.name for c in section.columns].index("网格编码") if section else None
    portal.log(request, pr, "view", "tasks", f"{area.level}:{area.code}", detail=f"截止 {as_of}")
    return render(request, portal, "tasks.html.j2", pr=pr, section=section, chart=chart, grid_col=grid_col,
                  closed=closed, dates=dates, as_of=as_of, area=area)


@download
def tasks_workbook(request: Request, portal: Portal, pr: Principal):
    """One grid's 走访核查任务单 (pipelines/publish/task_workbook.py), under the department's grant: made for each
    request (one grid's list, small), counted among the user's DOWNLOADS_PER_USER files in the making."""
    from pipelines.publish.task_workbook import write_task_workbooks

    as_of, area, _ = _tasks_params(request, portal, pr)
    grid = request.query_params.get("grid") or ""
    with portal.gate.read(macros=True) as conn:
        # the level is the account's own (street / community / grid), never the browser's
        mine = {r[0] for r in conn.execute(
            f"SELECT DISTINCT grid_code FROM marts.grids WHERE {area.level}_code = ?", [area.code]).fetchall()}
        if grid not in mine:
            raise Forbidden("所选网格不在您的辖区内。")
        if not request.state.make:
            raise NotMade(f"tasks-workbook:{grid}")
        out = portal.scratch()
        books = write_task_workbooks(conn, out_dir=out, as_of=dt.date.fromisoformat(as_of), home=portal.home,
                                     dept=pr.dept, scope=area.code, user=pr.username, grids=[grid])
    if not books:
        shutil.rmtree(out, ignore_errors=True)
        return error_page(request, portal, 404, "该网格在所选统计截止日期没有待办的走访核查任务。", pr)
    book = books[0]
    return portal.deliver(request, pr, FileResponse(
        book.path, filename=book.path.name,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(shutil.rmtree, book.path.parent, True)),
        "download", f"tasks-workbook:{grid}", f"{area.level}:{area.code}",
        f"截止 {as_of} {book.tasks}项 sha256={audit.sha256_file(book.path)[:16]}")
