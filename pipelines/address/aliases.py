"""Stewards teach the matcher once: decisions about address spellings, kept append-only, applied on every rebuild.

A steward looks at the addresses no house was found for, grouped by what is unknown (:func:`unknown_groups`:
an unknown compound or road spelling, a missing building, an ambiguous place, with counts), and decides:

- ``compound``: "金域蓝湾四期" (optionally only at 嘉陵江东街180号) is the compound 金域蓝湾(四期) of housing;
- ``road``: "玉林北街" is the road 玉林北路;
- ``house``: this address spelling is house 510107004001…

:func:`record_alias` appends the decision (who, when, why) to ``quality.address_aliases``; the next
``match_addresses`` (every ``onceonly run``) applies it to every row with that spelling, and ``explain`` and
the ``address-matches`` extract say that a steward's decision decided. A later decision for the same spelling
supersedes it; :func:`revoke_alias` withdraws it. Nothing is ever updated or deleted.

The CLI (``onceonly address alias``) and the portal call these functions; so may any workbook that collects
decisions: ``record_alias(conn, "compound", "金域蓝湾四期", "金域蓝湾(四期)", by="张三", reason="现场核实")``.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.errors import UserFacingError
from pipelines.store import Store, dicts, table_exists

KINDS = {"compound": "小区", "road": "道路", "house": "房屋"}
# unknown_kind of core.address_matches -> what a steward reads
UNKNOWN_TITLES = {
    "compound": "未知小区名", "road": "未知道路门牌", "building": "楼栋不存在", "house": "房屋不存在",
    "ambiguous": "对应多处房屋", "outside": "辖区外地址", "not_address": "不是地址", "unreadable": "无法识别",
}


class AliasRefused(UserFacingError):
    """A decision the store cannot take as given; ``str(exc)`` says why, in Chinese."""


@dataclass(frozen=True)
class AliasDecision:
    alias_id: str
    kind: str
    spelling: str
    target: str | None
    context: str | None
    action: str            # set | revoke
    by: str
    at: dt.datetime
    reason: str | None

    def describe(self) -> str:
        where = f"（仅限门牌“{self.context}”）" if self.context else ""
        if self.action == "revoke":
            return f"已撤销{KINDS[self.kind]}写法“{self.spelling}”{where}的认定"
        return f"{KINDS[self.kind]}写法“{self.spelling}”{where}认定为“{self.target}”"


def _ensure(conn: duckdb.DuckDBPyConnection) -> None:
    Store.run_sql(conn, "quality/address_aliases.sql")


def _one(conn, sql: str, params: list):
    rows = conn.execute(sql, params).fetchall()
    return rows[0][0] if rows else None


def _keys(conn, kind: str, spelling: str, context: str | None) -> tuple[str, str | None]:
    """What the matcher looks a spelling up by (sql/core/address_matches.sql)."""
    from pipelines.address.parse import parse_lines

    if kind == "compound":
        key = _one(conn, "SELECT addr_compound_norm(addr_fold(?))", [spelling])
    elif kind == "road":
        key = _one(conn, "SELECT addr_fold(?)", [spelling])
    else:
        key = _one(conn, "SELECT addr_clean(addr_fold(?))", [spelling])
    if not key:
        raise AliasRefused(f"“{spelling}”没有可识别的文字，无法认定")
    if kind == "house" and _one(conn, "SELECT length(?) <= 8 AND addr_not_address(?)", [key, key]):
        raise AliasRefused(f"“{spelling}”不是地址，不能认定为某一房屋；请让来源单位填写实际住址")
    ctx_key = None
    if context:
        if kind != "compound":
            raise AliasRefused("只有小区写法可以限定在某一道路门牌（--at）")
        parsed = parse_lines([context], conn)[0]
        if not parsed["carrier"] or not parsed["road_no"]:
            raise AliasRefused(f"“{context}”读不出道路和门牌号，例如应写作“嘉陵江东街180号”")
        ctx_key = f"{parsed['carrier']}|{parsed['road_no']}"
    return key, ctx_key


def _target_key(conn, kind: str, target: str) -> str:
    """The target as the matcher knows it, refused unless core.houses has it."""
    if not table_exists(conn, "core.houses"):
        raise AliasRefused("库中还没有实有房屋（core.houses），请先运行 onceonly run")
    if kind == "house":
        code = target.strip()
        if not _one(conn, "SELECT count(*) FROM core.houses WHERE house_code = ?", [code]):
            raise AliasRefused(f"房屋编码“{code}”不在实有房屋中")
        return code
    if kind == "compound":
        key = _one(conn, "SELECT addr_compound_norm(addr_fold(?))", [target])
        found = _one(conn, "SELECT count(*) FROM core.houses WHERE addr_compound_norm(addr_fold(compound)) = ? "
                           "OR contains(addr_fold(std_address), ?)", [key, key])
    else:
        key = _one(conn, "SELECT addr_fold(?)", [target])
        found = _one(conn, "SELECT count(*) FROM core.houses WHERE contains(addr_fold(std_address), ?)", [key])
    if not key or not found:
        raise AliasRefused(f"{KINDS[kind]}“{target}”不在实有房屋中：只能认定为实有房屋里已有的{KINDS[kind]}")
    return key


def _append(conn, kind, spelling, key, context, ctx_key, target, target_key, action, reason, by, at,
            home: Path | None) -> AliasDecision:
    """Keep the decision: in ``home``'s database for the next build (outside a build the live store is only read:
    pipelines/quality/pending.py), or — no home — in the store of ``conn``."""
    if kind not in KINDS:
        raise AliasRefused(f"认定类型应为 {'、'.join(KINDS)} 之一：{kind}")
    if not by or not by.strip():
        raise AliasRefused("请写明认定人（--by 姓名）")
    at = at or dt.datetime.now()
    row = [uuid.uuid4().hex, kind, spelling, key, context, ctx_key, target, target_key, action, reason, by.strip(), at]
    if home is not None:
        from pipelines.quality import pending

        pending.record_alias(home, row)
    else:
        _ensure(conn)
        conn.execute("INSERT INTO quality.address_aliases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    return AliasDecision(row[0], kind, spelling, target, context, action, by.strip(), at, reason)


def record_alias(conn: duckdb.DuckDBPyConnection, kind: str, spelling: str, target: str, *, by: str,
                 reason: str | None = None, context: str | None = None,
                 at: dt.datetime | None = None, home: Path | None = None) -> AliasDecision:
    """Record that the ``kind`` written ``spelling`` (a compound only at road and door number ``context``, if
    given) is ``target`` — a compound or road of ``core.houses`` as housing writes it, or a 房屋编码.

    Append-only; applied by the next ``match_addresses`` to every row with that spelling. Raises
    :class:`AliasRefused` (a Chinese message) when the target is not in the houses, the spelling reads as
    nothing, or no one is named as the decider.
    """
    if kind not in KINDS:
        raise AliasRefused(f"认定类型应为 {'、'.join(KINDS)} 之一：{kind}")
    spelling = (spelling or "").strip()
    key, ctx_key = _keys(conn, kind, spelling, context)
    target_key = _target_key(conn, kind, target or "")
    return _append(conn, kind, spelling, key, context, ctx_key, target, target_key, "set", reason, by, at, home)


def revoke_alias(conn: duckdb.DuckDBPyConnection, kind: str, spelling: str, *, by: str, reason: str,
                 context: str | None = None, at: dt.datetime | None = None, home: Path | None = None) -> AliasDecision:
    """Withdraw the standing decision for a spelling (appends a ``revoke``); the next rebuild reads it afresh."""
    if not reason or not reason.strip():
        raise AliasRefused("撤销认定请写明原因（--reason）")
    spelling = (spelling or "").strip()
    key, ctx_key = _keys(conn, kind, spelling, context)
    # the store's standing decisions (one waiting for the next build is withdrawn after that build)
    standing = table_exists(conn, "quality.active_address_aliases") and _one(
        conn, "SELECT count(*) FROM quality.active_address_aliases WHERE kind = ? AND spelling_key = ? "
              "AND coalesce(context_key, '') = coalesce(?, '')", [kind, key, ctx_key])
    if not standing:
        raise AliasRefused(f"{KINDS[kind]}写法“{spelling}”没有生效中的认定")
    return _append(conn, kind, spelling, key, context, ctx_key, None, None, "revoke", reason, by, at, home)


def list_aliases(conn: duckdb.DuckDBPyConnection, active_only: bool = True) -> list[dict]:
    """The decisions (standing ones, or every row ever appended), newest first."""
    if not table_exists(conn, "quality.address_aliases"):
        return []
    table = "quality.active_address_aliases" if active_only else "quality.address_aliases"
    return dicts(conn.execute(f'SELECT * FROM {table} ORDER BY "at" DESC, alias_id'))


def unknown_groups(conn: duckdb.DuckDBPyConnection, community: str | None = None, kind: str | None = None,
                   communities: list[str] | None = None) -> list[dict]:
    """Addresses no house was found for, grouped by what is unknown (kind, key) with their number of rows,
    largest first: one decision resolves a whole group. ``community`` (a code or name) or ``communities``
    (codes: a steward's jurisdiction): only rows the steward queue places there (``quality.issues``)."""
    if not table_exists(conn, "core.address_matches"):
        return []
    where, params = ["m.unknown_kind IS NOT NULL"], []
    if kind:
        where.append("m.unknown_kind = ?")
        params.append(kind)
    join = ""
    if community or communities is not None:
        if not table_exists(conn, "quality.issues"):
            return []
        # placed where the steward queue places the row's issue (its file's community, when no house)
        join = """JOIN quality.issues i ON i.source = 'address' AND i.template = m.template
                  AND i.batch_id = m.batch_id AND i.row_no = m.row_no"""
        if community:
            where.append("(i.community_code = ? OR i.community_name = ?)")
            params += [community, community]
        if communities is not None:
            where.append("list_contains(?, i.community_code)")
            params.append(list(communities))
    cur = conn.execute(f"""
        SELECT m.unknown_kind AS kind, m.unknown_key AS key, count(DISTINCT m.record_key) AS rows,
               count(DISTINCT m.address) AS spellings, min(m.address) AS example,
               string_agg(DISTINCT m.template, '、' ORDER BY m.template) AS templates,
               arg_min(m.basis_detail, m.address) AS basis   -- the example's (stored for every row no house was found for)
        FROM core.address_matches m {join}
        WHERE {' AND '.join(where)}
        GROUP BY ALL ORDER BY rows DESC, kind, key""", params)
    out = dicts(cur)
    for g in out:
        g["title"] = UNKNOWN_TITLES.get(g["kind"], g["kind"])
        # what a decision would name: the compound as read, the road without its number
        g["spelling"] = g["key"] if g["kind"] == "compound" else g["key"].split("|")[0] if g["kind"] == "road" else None
    return out


def masked_groups(groups: list[dict], m) -> list[dict]:
    """Groups as a viewer whose grant is ``m`` (pipelines.publish.masking.Masking) sees them: the example is an
    address (a police entry can carry a phone or an ID: ``…3栋电联138…``), key and basis are scrubbed. A spelling
    the scrub changes is not offered for a decision (the form would name a value the viewer cannot see)."""
    from pipelines.publish import masking

    out = []
    for g in groups:
        g = dict(g)
        g["example"] = masking.mask_value(g["example"], "address", m)
        for k in ("key", "basis"):
            g[k] = masking.mask_text(g[k], m)
        if g["spelling"] is not None and masking.mask_text(g["spelling"], m) != g["spelling"]:
            g["spelling"] = None
        out.append(g)
    return out
