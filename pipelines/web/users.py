"""Portal accounts and the audit trail's reader, over the home's database (pipelines/homedb.py).

File handouts made by ``write_extract``/``render_report`` are recorded there too (pipelines/publish/audit.py);
:func:`audit_log` lists both.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.errors import UserFacingError
from pipelines.homedb import AuditEvent, connect, escape_controls, record, transaction
from pipelines.homedb import path as portal_db
from pipelines.paths import store_path
from pipelines.web import throttle
from pipelines.web.sessions import end_user_sessions

MIN_PASSWORD = 10

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). The library's default (64 MiB,
# 3 passes, 4 lanes) costs several times more on a 2-core street-office server, which makes a
# burst of logins a denial of service. Stored hashes carry their parameters; old ones still verify and
# are rehashed on the next login when these change.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verifying against this when the account does not exist keeps the response time the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class UserError(UserFacingError):
    """A request about accounts that cannot be done; ``str(exc)`` is the Chinese message to print."""


@dataclass(frozen=True)
class User:
    username: str
    dept: str
    scope_level: str
    scope_code: str
    scope_name: str
    enabled: bool
    pw_version: int


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位。")


def _resolve_jurisdiction(home: Path, dept: str, scope: str):
    """(dept, Scope) checked against the registry and the store's grids (same rules as extracts)."""
    from pipelines.publish import load_registry, resolve_scope
    from pipelines.publish.registry import PublishError
    from pipelines.store import Store

    try:
        department = load_registry().department(dept)
    except PublishError as exc:
        raise UserError(str(exc)) from None
    if not scope or not scope.strip():
        raise UserError("必须指定用户的辖区（网格、社区或街道的代码或名称）。")
    path = store_path(home)
    if not path.exists():
        raise UserError(f"数据库不存在：{path}，无法核对辖区。请先运行 onceonly run。")
    with Store(path).connect(read_only=True) as conn:
        try:
            where = resolve_scope(conn, department, scope)
        except PublishError as exc:
            raise UserError(str(exc)) from None
    if where.level is None:
        raise UserError("用户的辖区必须是一个网格、社区或街道。")
    return department, where


def add_user(home: Path, username: str, password: str, dept: str, scope: str) -> User:
    """Create an account bound to a department and a jurisdiction (a grid, community or street, code or name)."""
    username = (username or "").strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise UserError("用户名不能为空、不能含空格，最长 64 个字符。")
    _check_password(password)
    department, where = _resolve_jurisdiction(home, dept, scope)
    with connect(home) as conn:
        if conn.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchall():
            raise UserError(f"用户“{username}”已存在。")
        now = _now()
        conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?, ?)",
                     [username, _hasher.hash(password), department.name, where.level, where.code, where.label,
                      now, now])
    _admin_event(home, "user_add", username, f"{where.level}:{where.code}", department.name)
    return get_user(home, username)


def _admin_event(home: Path, action: str, username: str, scope: str | None = None, detail: str | None = None):
    """Accounts are managed from the command line: the operating-system account did it."""
    record(home, AuditEvent(action, user=getpass.getuser(), what=username, scope=scope, detail=detail,
                            source="cli"))


def disable_user(home: Path, username: str) -> None:
    """Disable an account and end its open sessions at once."""
    with transaction(home) as conn:
        n = conn.execute("UPDATE users SET enabled = 0, pw_version = pw_version + 1, updated_at = ? "
                         "WHERE username = ?", [_now(), username]).rowcount
        ended = end_user_sessions(conn, username, "disabled")
    if not n:
        raise UserError(f"用户“{username}”不存在。")
    _admin_event(home, "user_disable", username, detail=f"结束会话 {ended} 个")


def reset_password(home: Path, username: str, password: str) -> None:
    """Set a new password (and re-enable the account, with no login delays left); its open sessions end at once."""
    _check_password(password)
    with transaction(home) as conn:
        n = conn.execute("UPDATE users SET pw_hash = ?, enabled = 1, pw_version = pw_version + 1, updated_at = ? "
                         "WHERE username = ?", [_hasher.hash(password), _now(), username]).rowcount
        ended = end_user_sessions(conn, username, "reset")
        throttle.forget_user(conn, username)
    if not n:
        raise UserError(f"用户“{username}”不存在。")
    _admin_event(home, "user_reset", username, detail=f"结束会话 {ended} 个")


def get_user(home: Path, username: str) -> User | None:
    with connect(home) as conn:
        rows = conn.execute("SELECT username, dept, scope_level, scope_code, scope_name, enabled, pw_version "
                            "FROM users WHERE username = ?", [username]).fetchall()
    if not rows:
        return None
    u = rows[0]
    return User(u[0], u[1], u[2], u[3], u[4], bool(u[5]), u[6])


def list_users(home: Path) -> list[User]:
    with connect(home) as conn:
        rows = conn.execute("SELECT username, dept, scope_level, scope_code, scope_name, enabled, pw_version "
                            "FROM users ORDER BY username").fetchall()
    return [User(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]


def verify_password(home: Path, username: str, password: str) -> User | None:
    """The account when the password is right and the account enabled (an unknown account takes as long).
    Throttling is the caller's (pipelines/web/throttle.py), before this."""
    with connect(home) as conn:
        rows = conn.execute("SELECT pw_hash, enabled FROM users WHERE username = ?", [username]).fetchall()
    stored = rows[0][0] if rows else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password) and bool(rows) and bool(rows[0][1])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        return None
    if _hasher.check_needs_rehash(stored):
        with connect(home) as conn:
            conn.execute("UPDATE users SET pw_hash = ? WHERE username = ?", [_hasher.hash(password), username])
    return get_user(home, username)


def audit_log(home: Path, since: dt.date | dt.datetime) -> list[dict]:
    """Every portal event (login, view, download, fix, ...) and every file handed out from the store
    (by the portal or the command line: pipelines/publish/audit.py) since ``since``, oldest first.

    Keys: at, source (portal | cli | handout), user, dept, action, what, scope, result, detail.
    """
    start = since if isinstance(since, dt.datetime) else dt.datetime.combine(since, dt.time())
    rows: list[dict] = []
    if portal_db(home).exists():
        with connect(home) as conn:
            for at, source, user, dept, action, what, scope, result, detail, ip in conn.execute(
                    "SELECT at, source, user, dept, action, what, scope, result, detail, ip FROM audit "
                    "WHERE at >= ? ORDER BY at, id", [start.isoformat(timespec="seconds")]).fetchall():
                rows.append({"at": dt.datetime.fromisoformat(at), "source": source, "user": user, "dept": dept,
                             "action": action, "what": what, "scope": scope, "result": result,
                             "detail": " ".join(x for x in (detail, f"ip={ip}" if ip else None) if x)})
    rows += _handouts(home, start)
    rows.sort(key=lambda r: r["at"])
    return rows


def _handouts(home: Path, start: dt.datetime) -> list[dict]:
    from pipelines.publish.audit import handouts

    return [{"at": h["written_at"], "source": "handout", "user": h["user_name"], "dept": h["department"],
             "action": "export", "what": f"{h['kind']}:{h['name']}.{h['format']}", "scope": h["scope"],
             "result": "ok", "detail": f"截止 {h['as_of']} {h['row_count']}行 sha256={h['file_sha256'][:16]}"
                                       + (f" 数据版本 {h['store_version']}" if h["store_version"] else "")}
            for h in handouts(home, start)]


def format_audit(rows: list[dict]) -> str:
    """Plain text for ``onceonly audit --since D``: one line per event (control characters in a value are
    shown escaped, so no value can forge a line)."""
    lines = ["时间\t来源\t用户\t部门\t操作\t对象\t范围\t结果\t说明"]
    for r in rows:
        lines.append("\t".join("" if v is None else escape_controls(str(v)) for v in (
            r["at"].isoformat(sep=" ", timespec="seconds"), r["source"], r["user"], r["dept"], r["action"],
            r["what"], r["scope"], r["result"], r["detail"])))
    return "\n".join(lines)


# --- demo accounts -------------------------------------------------------------------------------

DEMO_ACCOUNTS = (
    # username, department, level of the jurisdiction, what the account shows
    ("jiedao", "街道办", "street"),       # street-office clerk: reports, run status, whole street's queue
    ("steward", "街道办", "street"),      # the street's data steward (person-sources grant in departments.yaml)
    ("shequ", "社区", "community"),       # community steward: own community's queue, fixes
    ("minzheng", "民政", "street"),       # department analyst: assistance check
    ("gongan", "公安", "street"),         # department analyst: floating population
    ("jiaoyu", "教育", "street"),         # department analyst: school-age children only
    ("wangge", "网格员", "grid"),         # grid worker: the verification tasks of one grid
)


def demo_accounts_file(home: Path) -> Path:
    return Path(home) / "portal-demo-accounts.txt"


def ensure_demo_users(home: Path) -> list[tuple[str, str, str, str]]:
    """Create the demo accounts once (random passwords, kept in ``portal-demo-accounts.txt`` under the home,
    mode 0600, so ``onceonly serve`` can print them again). Jurisdiction: the store's first street and
    its first community. Returns (user, password, dept, scope name); empty when the store has no grids."""
    home = Path(home)
    known: dict[str, tuple[str, str, str, str]] = {}
    f = demo_accounts_file(home)
    if f.exists():
        for line in f.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 4:
                known[parts[0]] = (parts[0], parts[1], parts[2], parts[3])
    path = store_path(home)
    if not path.exists():
        return list(known.values())
    from pipelines.store import Store

    with Store(path).connect(read_only=True) as conn:
        try:
            first = conn.execute("SELECT street_code, street_name, community_code, community_name, grid_code "
                                 "FROM marts.grids ORDER BY street_code, community_code, grid_code LIMIT 1").fetchall()
        except Exception:   # no grids table yet
            first = []
    if not first:
        return list(known.values())
    street_code, street_name, community_code, community_name, grid_code = first[0]
    out = []
    for username, dept, level in DEMO_ACCOUNTS:
        user = get_user(home, username)
        if user is not None and username in known and user.enabled:
            out.append(known[username])
            continue
        password = secrets.token_urlsafe(9)
        code = {"street": street_code, "community": community_code, "grid": grid_code}[level]
        if user is None:
            add_user(home, username, password, dept, code)
        else:
            reset_password(home, username, password)
        user = get_user(home, username)
        out.append((username, password, dept, user.scope_name))
    f.write_text("".join("\t".join(a) + "\n" for a in out), encoding="utf-8")
    os.chmod(f, 0o600)
    return out
