"""Who may ask for what, over which rows: scope resolution and the as-of check shared by extracts and reports."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipelines.publish.registry import Department, GrantRefused, PublishError
from pipelines.store import Store, set_variables, table_exists


class NotAvailable(PublishError):
    """The store cannot answer (e.g. no status computed for that date). ``str(exc)`` is for the clerk."""


@dataclass(frozen=True)
class Scope:
    level: str | None       # None: the whole store; else grid / community / street / district
    code: str | None
    label: str              # what a clerk reads: 全库 / 金沙社区第1网格 / 金沙社区 / 草堂街道

    @property
    def key(self) -> str:
        return "全库" if self.level is None else f"{self.level}:{self.code}"


WHOLE = Scope(None, None, "全库")
_LEVEL_CN = {"grid": "网格", "community": "社区", "street": "街道", "district": "区县"}
# what a department of each level may ask for (the portal binds each account to one of its own on top)
ALLOWED_LEVELS = {"grid": ("grid",), "community": ("community", "grid"), "street": ("community", "street", "grid")}


def resolve_scope(conn: duckdb.DuckDBPyConnection, dept: Department | None, scope: str | None) -> Scope:
    """Find ``scope`` (a code or name of a grid, community, street or district in core.grids) and check it is
    within what ``dept`` may see."""
    if scope is None or not scope.strip():
        if dept is not None and dept.level == "community":
            raise GrantRefused(f"{dept.name}只能获取本社区的数据，请用 --scope 指定社区代码或社区名称。")
        if dept is not None and dept.level == "grid":
            raise GrantRefused(f"{dept.name}只能获取本网格的数据，请用 --scope 指定网格编码。")
        return WHOLE
    s = scope.strip()
    hits = conn.execute("""
        SELECT DISTINCT level, code, name FROM (
            SELECT 'grid' AS level, grid_code AS code, grid_name AS name FROM core.grids
            UNION ALL SELECT 'community', community_code, community_name FROM core.grids
            UNION ALL SELECT 'street', street_code, street_name FROM core.grids
            UNION ALL SELECT 'district', district_code, district_name FROM core.grids)
        WHERE code = ? OR name = ?
        ORDER BY level, code""", [s, s]).fetchall()
    if not hits:
        raise GrantRefused(f"范围“{s}”不是网格表中的网格、社区、街道或区县（请用代码或名称）。")
    if len({(lvl, code) for lvl, code, _ in hits}) > 1:
        options = "；".join(f"{_LEVEL_CN[lvl]} {name}（{code}）" for lvl, code, name in hits)
        raise GrantRefused(f"范围“{s}”对应多个单位：{options}。请改用代码指定。")
    level, code, name = hits[0]
    if dept is not None:
        if level not in ALLOWED_LEVELS[dept.level]:
            raise GrantRefused(
                f"{dept.name}的数据范围为{_LEVEL_CN[dept.level]}级，不能获取{_LEVEL_CN[level]}“{name}”的数据。")
    return Scope(level, code, name)


def scope_where(scope: Scope) -> tuple[str, list]:
    if scope.level is None:
        return "TRUE", []
    return f"_{scope.level}_code = ?", [scope.code]


def check_as_of(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    if not table_exists(conn, "marts.persons"):
        raise NotAvailable("这个数据版本生成于报表改读汇总表（marts.persons）之前，无法生成报表或数据提取。"
                           "请重新运行 onceonly run 生成新的数据版本。")
    n = conn.execute("SELECT count(*) FROM core.person_status WHERE as_of = ?", [as_of]).fetchall()[0][0]
    if not n:
        dates = [r[0].isoformat() for r in conn.execute(
            "SELECT DISTINCT as_of FROM core.person_status ORDER BY 1 DESC LIMIT 5").fetchall()]
        have = "、".join(dates) or "无"
        raise NotAvailable(f"库中没有统计截止日期 {as_of.isoformat()} 的人员状态（已有：{have}）。"
                           f"请先运行 onceonly run --as-of {as_of.isoformat()}。")


# The tables reports/scope.sql cuts down to a jurisdiction; the whole-store ones are kept aside meanwhile.
NARROWED = ("rp_grids", "rp_houses", "rp_persons")


def _meta(conn: duckdb.DuckDBPyConnection) -> tuple | None:
    try:
        return tuple(conn.execute("SELECT as_of, scope_level, scope_code FROM rp_meta").fetchall()[0])
    except duckdb.CatalogException:
        return None


def prepare(conn: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Build the TEMP report tables for ``as_of`` on this connection (once per connection and date); after a
    jurisdiction's report, the whole store's tables again (kept aside by :func:`narrow`, not rebuilt)."""
    done = _meta(conn)
    if done and done[0] == as_of:
        set_variables(conn, {"as_of": as_of})
        _whole(conn)
        return
    check_as_of(conn, as_of)
    for t in NARROWED:
        conn.execute(f"DROP TABLE IF EXISTS {t}_whole")
    Store.run_sql(conn, "reports/provinces.sql", as_of=as_of)
    Store.run_sql(conn, "reports/categories.sql", as_of=as_of)
    Store.run_sql(conn, "reports/prepare.sql", as_of=as_of)
    conn.execute("CREATE OR REPLACE TEMP TABLE rp_meta AS "
                 "SELECT ?::DATE AS as_of, NULL::VARCHAR AS scope_level, NULL::VARCHAR AS scope_code", [as_of])


def _whole(conn: duckdb.DuckDBPyConnection) -> None:
    """Put the whole-store tables back (renames: nothing is copied)."""
    if _meta(conn)[1] is None:
        return
    for t in NARROWED:
        conn.execute(f"DROP TABLE {t}")
        conn.execute(f"ALTER TABLE {t}_whole RENAME TO {t}")
    conn.execute("UPDATE rp_meta SET scope_level = NULL, scope_code = NULL")


def narrow(conn: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """Cut the prepared rp_* tables down to one jurisdiction (reports): the whole-store tables are renamed aside and
    the jurisdiction's rows copied, so one preparation serves every jurisdiction in turn (the portal's files,
    rendered for each street and community with every store version)."""
    if scope.level is None:
        _whole(conn)
        return
    meta = _meta(conn)
    if meta[1:] == (scope.level, scope.code):
        return
    if meta[1] is None:
        for t in NARROWED:
            conn.execute(f"ALTER TABLE {t} RENAME TO {t}_whole")
    Store.run_sql(conn, "reports/scope.sql", scope_level=scope.level, scope_code=scope.code)
    conn.execute("UPDATE rp_meta SET scope_level = ?, scope_code = ?", [scope.level, scope.code])
