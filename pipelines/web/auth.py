"""Who is asking, and what their department and jurisdiction let them see.

Roles follow the department registry (reports/departments.yaml):
- 街道办 (street office): reports, extracts, the steward queue of the street, scorecard, run status;
- 社区 (community): the steward queue of its community, scorecard, its reports and extracts;
- every other department: the reports and extracts its grant lists, nothing else.
Every page and download checks this on the server, per request; nothing is trusted from the browser
but the signed session cookie, and even that is re-checked against the account (disabled or reset
accounts lose their sessions).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from pipelines.publish import load_registry
from pipelines.publish.registry import Department
from pipelines.web import users
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
    name, version = request.session.get("u"), request.session.get("v")
    if not isinstance(name, str) or not isinstance(version, int):
        return None
    user = users.get_user(home, name)
    if user is None or not user.enabled or user.pw_version != version:
        request.session.clear()
        return None
    return user


def principal_for(user: users.User) -> Principal:
    return Principal(user, load_registry().department(user.dept))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"
