"""The portal application: ``create_app(home)`` and ``serve(home, host, port)``."""
from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipelines.paths import REPORTS_DIR
from pipelines.web import auth, pages
from pipelines.web.data import StoreGate
from pipelines.web.sessions import ServerSessions, SessionPolicy
from pipelines.web.uploads import MAX_UPLOAD_BYTES

_HEADERS = [
    # img-src data: the task page's chart is a PNG inside the page (drawn on the server; no script anywhere)
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                                 b"frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Defaults for every response; a response that sets its own (the framed report) keeps it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                framed = b"content-security-policy" in have
                for k, v in _HEADERS:
                    if k in have or (framed and k == b"x-frame-options"):
                        continue
                    headers.append((k, v))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(home: Path, *, https_only: bool | None = None, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               session_idle_minutes: float | None = None, session_hours: float | None = None,
               trusted_proxies: str | list[str] | None = None) -> Starlette:
    """The portal over the live version of ``<home>/store.duckdb``, read-only (accounts, sessions, audit, handouts
    and stewards' decisions in ``<home>/portal.sqlite3``: pipelines/homedb.py).

    ``https_only`` marks the session cookie Secure (default: ``$ONCEONLY_HTTPS`` = 1); set it when the
    portal is served behind TLS, which production must be. ``session_idle_minutes`` / ``session_hours``
    (default ``$ONCEONLY_SESSION_IDLE_MINUTES`` = 30, ``$ONCEONLY_SESSION_HOURS`` = 8): a session ends
    after that long without a request, and that long after login. ``trusted_proxies`` (default
    ``$ONCEONLY_TRUSTED_PROXIES``, e.g. ``"127.0.0.1"`` behind a local nginx): the only peers whose
    ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed."""
    home = Path(home).resolve()
    policy = SessionPolicy.from_env(idle_minutes=session_idle_minutes, max_hours=session_hours,
                                    https_only=https_only)
    portal = pages.Portal(home=home, gate=StoreGate(home), env=pages.make_env(), max_upload=max_upload_bytes)
    routes = [
        Route("/", pages.home),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login_submit, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/reports", pages.reports_page),
        Route("/reports/view", pages.report_view),
        Route("/reports/download", pages.report_download),
        Route("/reports/list", pages.report_list),
        Route("/extracts", pages.extracts_page),
        Route("/extracts/download", pages.extract_download),
        Route("/queue", pages.queue_page),
        Route("/queue/fix", pages.queue_fix, methods=["POST"]),
        Route("/queue/export", pages.queue_export),
        Route("/queue/upload", pages.queue_upload, methods=["POST"]),
        Route("/queue/addresses", pages.queue_addresses),
        Route("/queue/progress", pages.queue_progress),
        Route("/queue/address-alias", pages.queue_address_alias, methods=["POST"]),
        Route("/scorecard", pages.scorecard_page),
        Route("/tasks", pages.tasks_page),
        Route("/tasks/workbook", pages.tasks_workbook),
        Route("/runs", pages.runs_page),
        Route("/runs/report", pages.run_report_page),
        Mount("/static", StaticFiles(directory=REPORTS_DIR / "web" / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(ServerSessions, home=home, policy=policy, client_ip=auth.client_ip),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = portal
    app.state.sessions = policy
    app.state.trusted_proxies = auth.trusted_proxies(
        trusted_proxies if trusted_proxies is not None else os.environ.get("ONCEONLY_TRUSTED_PROXIES"))
    return app


def uvicorn_config(app, host: str, port: int, **kw):
    """How the portal is served (``serve`` and the tests' live server alike). uvicorn's own proxy handling is
    off: by default it believes ``X-Forwarded-For`` from any local client; the portal decides that itself
    from its configured proxies (:func:`pipelines.web.auth.client_ip`)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", server_header=False,
                          proxy_headers=False, **kw)


def serve(home: Path, host: str = "127.0.0.1", port: int = 8080, *, demo_users: bool = True) -> None:
    """Run the portal (blocking). Prints the URL and, with ``demo_users``, the demo accounts."""
    import uvicorn

    from pipelines.web.users import ensure_demo_users

    home = Path(home).resolve()
    app = create_app(home)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"onceonly 门户已启动：http://{shown}:{port}/   （数据目录 {home}，按 Ctrl+C 停止）")
    if demo_users:
        accounts = ensure_demo_users(home)
        if accounts:
            print("演示账号（仅供演示，密码保存在 portal-demo-accounts.txt）：")
            for user, password, dept, scope in accounts:
                print(f"  {user:<10} 密码 {password:<14} {dept}  {scope}")
        else:
            print("尚无数据库或网格表，未创建演示账号。请先运行 make demo。")
    uvicorn.Server(uvicorn_config(app, host, port)).run()
