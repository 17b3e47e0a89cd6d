"""Portal sessions, kept on the server (``sessions`` in the portal database).

The browser holds only a random id (cookie ``onceonly_session``: HttpOnly, SameSite=Strict, Secure
behind TLS, no expiry date, so it goes when the browser closes); the server holds whose it is, its CSRF
token, its small state (flash messages) and its times. A session ends on the server: logout, a password
reset and ``users disable`` end it at once; it also ends after :attr:`SessionPolicy.idle_minutes`
without a request and :attr:`SessionPolicy.max_hours` after login, whatever the activity. A cookie of an
ended session is refused (and the refusal audited, naming whose session it was and how it ended).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from pipelines.homedb import connect

COOKIE = "onceonly_session"
_SCOPE_KEY = "onceonly.session"
_TOUCH_S = 15                      # last_seen is written at most this often per session (or a tenth of the idle time)
_KEEP_ENDED_S = 30 * 86400         # an ended login session is kept this long to name a replayed cookie

ENDED_CN = {"logout": "已退出登录", "idle": "空闲超时", "lifetime": "超过最长登录时长", "reset": "密码已被重置",
            "disabled": "账号已停用", "login": "已重新登录（旧会话作废）", "unknown": "会话不存在或已清除"}


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: float = 30
    max_hours: float = 8
    https_only: bool = False

    @classmethod
    def from_env(cls, **given) -> "SessionPolicy":
        """``$ONCEONLY_SESSION_IDLE_MINUTES`` (30), ``$ONCEONLY_SESSION_HOURS`` (8), ``$ONCEONLY_HTTPS`` (1 = Secure
        cookie); arguments that are not None win."""
        env = {"idle_minutes": float(os.environ.get("ONCEONLY_SESSION_IDLE_MINUTES", cls.idle_minutes)),
               "max_hours": float(os.environ.get("ONCEONLY_SESSION_HOURS", cls.max_hours)),
               "https_only": os.environ.get("ONCEONLY_HTTPS", "") == "1"}
        return cls(**{**env, **{k: v for k, v in given.items() if v is not None}})


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class Session:
    """One request's session. ``user`` is None before login; ``ended`` says why a presented cookie no
    longer works (``ended_user``: whose it was)."""

    def __init__(self, sid: str | None = None, user: str | None = None, csrf: str | None = None,
                 data: dict | None = None, *, presented: bool = False, ended: str | None = None,
                 ended_user: str | None = None, ended_at: float | None = None):
        self.sid, self.user, self.csrf = sid, user, csrf
        self.data = data if data is not None else {}
        self.presented, self.ended, self.ended_user, self.ended_at = presented, ended, ended_user, ended_at
        self._saved = json.dumps(self.data, sort_keys=True)
        self._new_csrf = False
        self._begin: str | None = None
        self._end: str | None = None

    def csrf_token(self) -> str:
        """The session's CSRF token (a session is started to hold one, e.g. for the login form)."""
        if not self.csrf:
            self.csrf = secrets.token_urlsafe(32)
            self._new_csrf = True
        return self.csrf

    def begin(self, user: str) -> None:
        """Log ``user`` in: a new session id and CSRF token (the old id stops working: no fixation)."""
        self._begin, self.user = user, user
        self.data.clear()
        self.csrf = secrets.token_urlsafe(32)

    def end(self, why: str = "logout") -> None:
        self._end, self.user = why, None
        self.data.clear()


def current(conn: HTTPConnection) -> Session:
    return conn.scope[_SCOPE_KEY]


def _end_rows(conn: sqlite3.Connection, where: str, params: list, why: str, now: float) -> None:
    """End sessions: a logged-in one is kept (ended) to recognise its cookie; one before login just goes."""
    conn.execute(f"DELETE FROM sessions WHERE user IS NULL AND ended_at IS NULL AND ({where})", params)
    conn.execute(f"UPDATE sessions SET ended_at = ?, ended_why = ? WHERE ended_at IS NULL AND ({where})",
                 [now, why, *params])


def end_user_sessions(conn: sqlite3.Connection, username: str, why: str) -> int:
    """End every open session of ``username`` (inside the caller's transaction); returns how many."""
    n = conn.execute("SELECT count(*) FROM sessions WHERE user = ? AND ended_at IS NULL", [username]).fetchall()[0][0]
    _end_rows(conn, "user = ?", [username], why, time.time())
    return n


def load(home: Path, sid: str | None, policy: SessionPolicy, now: float | None = None) -> Session:
    if not sid:
        return Session()
    now = time.time() if now is None else now
    with connect(home) as conn:
        rows = conn.execute("SELECT user, csrf, data, created_at, last_seen, ended_at, ended_why FROM sessions "
                            "WHERE id = ?", [_hash(sid)]).fetchall()
        if not rows:
            return Session(presented=True, ended="unknown")
        user, csrf, data, created, last_seen, ended_at, ended_why = rows[0]
        if ended_at is not None:
            return Session(presented=True, ended=ended_why, ended_user=user, ended_at=ended_at)
        why = ("lifetime" if now - created > policy.max_hours * 3600 else
               "idle" if now - last_seen > policy.idle_minutes * 60 else None)
        if why:
            _end_rows(conn, "id = ?", [_hash(sid)], why, now)
            return Session(presented=True, ended=why, ended_user=user, ended_at=now)
        if now - last_seen >= min(_TOUCH_S, policy.idle_minutes * 6):
            conn.execute("UPDATE sessions SET last_seen = ? WHERE id = ?", [now, _hash(sid)])
    try:
        state = json.loads(data)
    except ValueError:
        state = {}
    return Session(sid, user, csrf, state if isinstance(state, dict) else {}, presented=True)


def save(home: Path, s: Session, ip: str | None, policy: SessionPolicy, now: float | None = None) -> str | None:
    """Write what the request changed; returns the new cookie value ("" to clear it, None: unchanged)."""
    now = time.time() if now is None else now
    data = json.dumps(s.data, sort_keys=True)
    if not (s._end or s._begin):
        if s.sid is None and not (s._new_csrf or data != "{}"):
            return "" if s.presented else None      # no session, none wanted: clear a dead cookie
        if s.sid is not None:
            if data != s._saved:
                with connect(home) as conn:
                    conn.execute("UPDATE sessions SET data = ? WHERE id = ?", [data, _hash(s.sid)])
            return None
    with connect(home) as conn:
        if s.sid and (s._end or s._begin):
            _end_rows(conn, "id = ?", [_hash(s.sid)], s._end or "login", now)
        if s._end:
            return ""
        # a new session: at login, or to hold the login form's CSRF token
        sid = secrets.token_urlsafe(32)
        conn.execute("INSERT INTO sessions (id, user, csrf, data, ip, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [_hash(sid), s.user, s.csrf_token(), data, ip, now, now])
        # housekeeping (indexed): login forms past the idle time, ended sessions past keeping
        conn.execute("DELETE FROM sessions WHERE (user IS NULL AND last_seen < ?) OR ended_at < ?",
                     [now - policy.idle_minutes * 60, now - _KEEP_ENDED_S])
    s.sid = sid
    return sid


class ServerSessions:
    """ASGI middleware: loads the request's session from the portal database into ``scope`` (and
    ``request.session`` for its small state), and writes it back when the response starts."""

    def __init__(self, app, home: Path, policy: SessionPolicy, client_ip):
        self.app, self.home, self.policy, self.client_ip = app, Path(home), policy, client_ip

    def _cookie(self, value: str) -> bytes:
        attrs = f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict"
        if self.policy.https_only:
            attrs += "; Secure"
        if not value:
            attrs += "; Max-Age=0"
        return attrs.encode("latin-1")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        s = await run_in_threadpool(load, self.home, conn.cookies.get(COOKIE), self.policy)
        scope[_SCOPE_KEY] = s
        scope["session"] = s.data

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                value = await run_in_threadpool(save, self.home, s, self.client_ip(conn), self.policy)
                if value is not None:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", self._cookie(value))]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
