"""The web portal (`onceonly serve`): reports, extracts, the steward queue, scorecard and run status for
street offices, communities and departments, with accounts, grants and an audit trail.

Public API:
    create_app(home, *, secret_key=None, https_only=None, max_upload_bytes=...) -> starlette.applications.Starlette
    serve(home, host="127.0.0.1", port=8080, *, demo_users=True) -> None
    add_user(home, username, password, dept, scope) -> User
    disable_user(home, username) -> None
    reset_password(home, username, password) -> None
    list_users(home) -> list[User]
    ensure_demo_users(home) -> list[(user, password, dept, scope_name)]
    audit_log(home, since: date | datetime) -> list[dict]      format_audit(rows) -> str
    UserError      (str(exc) is the Chinese message to print)
"""
from pipelines.web.app import create_app, serve
from pipelines.web.users import (UserError, add_user, audit_log, disable_user, ensure_demo_users, format_audit,
                                 list_users, reset_password)

__all__ = ["UserError", "add_user", "audit_log", "create_app", "disable_user", "ensure_demo_users", "format_audit",
           "list_users", "reset_password", "serve"]
