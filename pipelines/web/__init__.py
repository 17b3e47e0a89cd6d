"""The web portal (`onceonly serve`): reports, extracts, the steward queue, scorecard and run status for
street offices, communities and departments, with accounts, grants and an audit trail.

Public API:
    create_app(home, *, https_only=None, max_upload_bytes=..., session_idle_minutes=None, session_hours=None,
               trusted_proxies=None) -> starlette.applications.Starlette
    serve(home, host="127.0.0.1", port=8080, *, demo_users=True) -> None
    add_user(home, username, password, dept, scope) -> User
    disable_user(home, username) -> None
    reset_password(home, username, password) -> None
    list_users(home) -> list[User]
    ensure_demo_users(home) -> list[(user, password, dept, scope_name)]
    audit_log(home, since: date | datetime) -> list[dict]      format_audit(rows) -> str
    UserError      (str(exc) is the Chinese message to print)
"""
import importlib

# Imported on first use: the command line writes the audit trail through pipelines.homedb without
# loading the web server (Starlette, openpyxl, the report renderers).
_WHERE = {"create_app": "app", "serve": "app", **{n: "users" for n in (
    "UserError", "add_user", "audit_log", "disable_user", "ensure_demo_users", "format_audit", "list_users",
    "reset_password")}}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'pipelines.web' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pipelines.web.{_WHERE[name]}"), name)
