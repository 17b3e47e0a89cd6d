"""Who is asking, and what their department and jurisdiction let them see.

Roles follow the department registry (reports/departments.yaml):
- 街道办 (street office): reports, extracts, the steward queue of the street, scorecard, run status;
- 社区 (community): the steward queue of its community, scorecard, its reports and extracts;
- every other department: the reports and extracts its grant lists, nothing else.
Every page and download checks this on the server, per request; nothing is trusted from the browser
but the session id, which names a session kept on the server (pipelines/web/sessions.py), and even that
is re-checked against the account.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection, Request

from pipelines.publish import load_registry
from pipelines.publish.registry import Department
from pipelines.web import sessions, users
from pipelines.web.data import Area

STEWARD_DEPTS = ("街道办", "社区")      # own the data: see and fix the steward queue
OPERATOR_DEPTS = ("街道办",)            # run status (the street office runs onceonly)

ROLE_CN = {"street": "街道数据管理", "steward": "社区数据专员", "analyst": "部门数据使用"}


class Forbidden(Exception):
    """Outside the user's grant or jurisdiction; ``str(exc)`` is shown on the 403 page."""


class BadRequest(Exception):
    """A parameter that is not one of the offered choices; ``str(exc)`` is shown on the 400 page."""


@dataclass
class Principal:
    user: users.User
    department: Department
    areas: list[Area] = field(default_factory=list)

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def dept(self) -> str:
        return self.department.name

    @property
    def role(self) -> str:
        if self.dept in OPERATOR_DEPTS:
            return "street"
        if self.dept in STEWARD_DEPTS:
            return "steward"
        return "analyst"

    @property
    def role_cn(self) -> str:
        return ROLE_CN[self.role]

    @property
    def can_steward(self) -> bool:
        return self.dept in STEWARD_DEPTS

    @property
    def can_see_runs(self) -> bool:
        return self.dept in OPERATOR_DEPTS

    @property
    def scope_key(self) -> str:
        return f"{self.user.scope_level}:{self.user.scope_code}"

    @property
    def community_codes(self) -> set[str]:
        return {a.code for a in self.areas if a.level == "community"}

    def area(self, code: str | None) -> Area:
        """The jurisdiction the user asked for (default: their own); Forbidden outside it."""
        if not self.areas:
            raise Forbidden("您账号绑定的辖区在网格表中不存在，请联系管理员核对账号。")
        if code is None or code == "":
            return self.areas[0]
        for a in self.areas:
            if a.code == code:
                return a
        raise Forbidden("所选范围不在您的辖区内。")

    def require_steward(self) -> None:
        if not self.can_steward:
            raise Forbidden(f"{self.dept}账号不能使用数据问题处理功能（仅限街道办、社区的数据专员）。")

    def require_operator(self) -> None:
        if not self.can_see_runs:
            raise Forbidden(f"{self.dept}账号不能查看运行状态（仅限街道办）。")


def session_user(request: Request, home) -> users.User | None:
    """The logged-in account of this request's server-side session (None: not logged in, or the session or
    the account has ended; ``sessions.current(request).ended`` then says why)."""
    s = sessions.current(request)
    if s.user is None:
        return None
    user = users.get_user(home, s.user)
    if user is None or not user.enabled:
        s.ended, s.ended_user = "disabled", s.user
        s.end("disabled")
        return None
    return user


def principal_for(user: users.User) -> Principal:
    return Principal(user, load_registry().department(user.dept))


def trusted_proxies(spec: str | list[str] | None) -> tuple:
    """Networks whose ``X-Forwarded-For`` is believed: ``"10.0.0.5, 192.168.1.0/24"`` or a list. Nothing
    configured (the default), nothing believed: the address is the connection's."""
    items = spec.split(",") if isinstance(spec, str) else (spec or [])
    return tuple(ipaddress.ip_network(i.strip(), strict=False) for i in items if i.strip())


def _is(addr: str, nets: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def _from_proxy(conn: HTTPConnection) -> bool:
    nets = getattr(conn.app.state, "trusted_proxies", ())
    return bool(nets) and conn.client is not None and _is(conn.client.host, nets)


def client_ip(conn: HTTPConnection) -> str:
    """The client's address: the connection's, or, behind a configured proxy, the nearest address in
    ``X-Forwarded-For`` that is not itself a trusted proxy (the left part of the header is the client's to
    write, so it is read from the right)."""
    peer = conn.client.host if conn.client else "-"
    if not _from_proxy(conn):
        return peer
    nets = conn.app.state.trusted_proxies
    hops = [h.strip() for h in ",".join(conn.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if not _is(hop, nets):
            return hop
    return peer


def request_scheme(conn: HTTPConnection) -> str:
    """http or https as the browser sees it (a trusted proxy terminating TLS says so in X-Forwarded-Proto)."""
    proto = conn.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto if _from_proxy(conn) and proto in ("http", "https") else conn.url.scheme
