"""The steward queue ``quality.issues``: every problem the store knows about, in one table.

Columns: issue_id (stable hash of rule + source row + field + value), rule, severity (error/warn),
source (row_error / expectation / linkage / address), community_code, community_name, street_code,
template, batch_id, row_no, record_no, row_key, field (Chinese), column_name (store column),
value, message (Chinese), suggested_fix, status (open / fixed / waived), built_at, first_seen.
A fixed or waived issue stays listed after the rebuild that no longer finds its problem (a fix removes it
from the sources); every rebuild is counted in quality.queue_runs (sql/quality/queue_history.sql).
"""
from __future__ import annotations

import duckdb

from pipelines.publish import masking
from pipelines.publish.masking import Masking
from pipelines.publish.registry import load_registry
from pipelines.sources import Catalog, load_catalog
from pipelines.store import Store, dicts, table_exists

# TEMP view -> (store table(s) tried in order, columns the queue reads with their types;
# "source AS name" where the store's column has another name)
INPUTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "q_row_errors": (("quality.effective_row_errors", "raw.row_errors"), {
        "batch_id": "VARCHAR", "template": "VARCHAR", "row_no": "INTEGER", "record_no": "VARCHAR",
        "field": "VARCHAR", "column_name": "VARCHAR", "value": "VARCHAR", "rule": "VARCHAR",
        "severity": "VARCHAR", "message": "VARCHAR"}),
    "q_expectation_failures": (("quality.expectation_failures",), {
        "rule": "VARCHAR", "level": "VARCHAR", "column_name": "VARCHAR", "field": "VARCHAR",
        "description": "VARCHAR", "template": "VARCHAR", "batch_id": "VARCHAR", "row_no": "INTEGER",
        "record_no": "VARCHAR", "row_key": "VARCHAR", "value": "VARCHAR", "house_code": "VARCHAR",
        "microgrid_code": "VARCHAR", "person_key": "VARCHAR"}),
    "q_batches": (("raw.batches",), {"batch_id": "VARCHAR", "template": "VARCHAR", "file_name": "VARCHAR",
                                     "loaded_on": "DATE", "status": "VARCHAR", "rows_read": "BIGINT",
                                     "rows_loaded": "BIGINT", "rows_rejected": "BIGINT"}),
    "q_person_links": (("core.person_links",), {"record_key": "VARCHAR", "person_key": "VARCHAR", "rule": "VARCHAR"}),
    "q_person_records": (("core.person_records",), {
        "record_key": "VARCHAR", "template": "VARCHAR", "batch_id": "VARCHAR", "row_no": "INTEGER",
        "record_no": "VARCHAR", "name_raw": "VARCHAR", "id_raw": "VARCHAR", "id_valid": "BOOLEAN",
        "house_code": "VARCHAR", "event_date": "DATE"}),
    "q_link_candidates": (("core.link_candidates",), {"record_key": "VARCHAR",
                                                       "candidate_person_key AS person_key": "VARCHAR",
                                                       "match_weight AS score": "DOUBLE",
                                                       "reason": "VARCHAR"}),
    "q_persons": (("core.persons",), {"person_key": "VARCHAR", "name": "VARCHAR", "id_number": "VARCHAR"}),
    "q_address_matches": (("core.address_matches",), {
        "template": "VARCHAR", "batch_id": "VARCHAR", "row_no": "INTEGER", "record_key": "VARCHAR",
        "address": "VARCHAR", "match_status": "VARCHAR", "candidates": "VARCHAR[]", "house_code": "VARCHAR",
        # what address_basis(m) reads to spell the 依据
        "how": "VARCHAR", "rule": "VARCHAR", "basis_detail": "VARCHAR", "road": "VARCHAR", "road_no": "VARCHAR",
        "compound": "VARCHAR", "building": "VARCHAR", "unit": "VARCHAR", "floor": "VARCHAR", "room": "VARCHAR"}),
    "q_houses": (("core.houses",), {"house_code": "VARCHAR", "microgrid_code": "VARCHAR", "batch_id": "VARCHAR",
                                    "row_no": "INTEGER", "collected_on": "DATE"}),
    "q_grids": (("core.grids",), {"microgrid_code": "VARCHAR", "community_code": "VARCHAR",
                                  "community_name": "VARCHAR", "street_code": "VARCHAR", "batch_id": "VARCHAR",
                                  "row_no": "INTEGER"}),
    "q_person_status": (("core.person_status",), {"person_key": "VARCHAR", "microgrid_code": "VARCHAR"}),
}


def bind_inputs(conn: duckdb.DuckDBPyConnection, catalog: Catalog | None = None) -> None:
    """Point the q_* TEMP views at the store; empty stand-ins where a table is not built yet. Without a steward fix
    in force the reader's errors are raw.row_errors as they are (quality.effective_row_errors would read every raw
    table through the fixes' overlay to take nothing away)."""
    from pipelines.staging import corrections_stand

    overlay = corrections_stand(conn)
    for view, (tables, cols) in INPUTS.items():
        source = next((t for t in tables if (overlay or t != "quality.effective_row_errors")
                       and table_exists(conn, t)), None)
        if source:
            select = ", ".join(f"CAST({c.split(' AS ')[0]} AS {ty}) AS {c.split(' AS ')[-1]}" for c, ty in cols.items())
            conn.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {select} FROM {source}")
        else:
            select = ", ".join(f"NULL::{ty} AS {c.split(' AS ')[-1]}" for c, ty in cols.items())
            conn.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {select} WHERE false")
    catalog = catalog or load_catalog()
    conn.execute("CREATE OR REPLACE TEMP TABLE q_fields (template VARCHAR, column_name VARCHAR, field VARCHAR, "
                 "type VARCHAR, value_list VARCHAR)")
    conn.executemany("INSERT INTO q_fields VALUES (?, ?, ?, ?, ?)",
                     [[t.name, f.column, f.name, f.type, f.values] for t in catalog for f in t.fields])


def build_queue(conn: duckdb.DuckDBPyConnection | Store, catalog: Catalog | None = None) -> int:
    """Rebuild ``quality.issues`` from every source; returns the number of open issues."""
    if isinstance(conn, Store):
        with conn.connect() as c:
            return build_queue(c, catalog)
    from pipelines.quality.corrections import apply_corrections_sql
    from pipelines.quality.validate import ensure_schema
    from pipelines.staging import corrections_stand

    catalog = catalog or load_catalog()
    ensure_schema(conn)
    fixes = corrections_stand(conn)
    if fixes:  # the fixes' overlay views (staging's, made again for this catalog); without a fix the queue reads none
        apply_corrections_sql(conn, catalog)
    bind_inputs(conn, catalog)
    had_queue = table_exists(conn, "quality.issues")
    if had_queue:
        conn.execute("CREATE OR REPLACE TEMP TABLE q_prev_issues AS SELECT * FROM quality.issues")
        # a queue built before issues carried first_seen: first seen at that build, as far as the store knows
        conn.execute("ALTER TABLE q_prev_issues ADD COLUMN IF NOT EXISTS first_seen TIMESTAMP")
        conn.execute("UPDATE q_prev_issues SET first_seen = built_at WHERE first_seen IS NULL")
        conn.execute("UPDATE q_prev_issues SET issue_id = upgraded_issue_id(issue_id)")
    conn.execute("CREATE OR REPLACE TEMP TABLE q_fixes_in_force AS " + (" UNION ALL ".join(
        f"SELECT correction_id FROM quality.fixes_{t.name}" for t in catalog) if fixes
        else "SELECT NULL::VARCHAR AS correction_id WHERE false"))  # no fix in force: every fixes_ view is empty
    Store.run_sql(conn, "quality/location.sql")
    Store.run_sql(conn, "quality/queue_sources.sql")
    Store.run_sql(conn, "quality/queue.sql")
    if not had_queue:
        conn.execute("CREATE OR REPLACE TEMP TABLE q_prev_issues AS SELECT * FROM quality.issues WHERE false")
    Store.run_sql(conn, "quality/queue_history.sql")
    return conn.execute("SELECT count(*) FROM quality.issues WHERE status = 'open'").fetchall()[0][0]


def last_rebuild(conn: duckdb.DuckDBPyConnection) -> dict | None:
    """What the newest rebuild of the queue changed (quality.queue_runs), for `onceonly run`'s summary."""
    if not table_exists(conn, "quality.queue_runs"):
        return None
    rows = dicts(conn.execute("SELECT * FROM quality.queue_runs ORDER BY run_no DESC LIMIT 1"))
    return rows[0] if rows else None


def list_issues(conn: duckdb.DuckDBPyConnection, community: str | None = None, status: str | None = "open",
                rule: str | None = None, issues: str = "quality.issues",
                corrections: str = "quality.active_corrections") -> list[dict]:
    """Issues for ``onceonly quality list`` (a steward sees their own community: code or name), from ``issues``
    and ``corrections`` (the store's, or views with waiting decisions applied: pipelines/quality/pending.py)."""
    # a decided issue carries its standing decision: who, when, old and new value, and the rebuild that first
    # ran with it (quality.queue_runs; NULL until the next `onceonly run`)
    decided = table_exists(conn, "quality.active_corrections")
    runs = decided and table_exists(conn, "quality.queue_runs")
    cur = conn.execute(
        "SELECT i.*" + (", a.\"by\" AS decided_by, a.\"at\" AS decided_at, a.old_value, a.new_value, a.reason"
                        if decided else "")
        + (", (SELECT min(run_no) FROM quality.queue_runs r WHERE r.built_at >= a.\"at\") AS applied_in_run"
           if runs else "")
        + f" FROM {issues} i" + (f" LEFT JOIN {corrections} a ON a.issue_id = i.issue_id" if decided else "")
        + " WHERE (?::VARCHAR IS NULL OR i.community_code = ? OR i.community_name = ?) "
        "AND (?::VARCHAR IS NULL OR i.status = ?) AND (?::VARCHAR IS NULL OR i.rule = ?) "
        "ORDER BY i.community_code NULLS LAST, i.rule, i.template, i.batch_id, i.row_no",
        [community, community, community, status, status, rule, rule])
    return dicts(cur)


# the queue's columns that hold a value of the issue's field (masked by that field's class)
VALUE_COLUMNS = ("value", "suggested_fix", "old_value", "new_value")


def field_class(field: str | None) -> str:
    """The class of a source field (reports/extracts.yaml `classes`); a problem not tied to a field: other."""
    if not field:
        return "other"
    return load_registry().column_class(field)


def masked_issue(issue: dict, m: Masking) -> dict:
    """An issue as a steward whose grant is ``m`` sees it: the cell value, the suggested fix and a fix already
    made masked by the class of their field; the message (which quotes them) masked alike and scrubbed."""
    cls = field_class(issue.get("field"))
    out = dict(issue)
    quoted = {issue[k]: cls for k in VALUE_COLUMNS if isinstance(issue.get(k), str)}
    for k in VALUE_COLUMNS:
        if k in out:
            out[k] = masking.mask_value(out[k], cls, m)
    if "message" in out:
        out["message"] = masking.mask_quoting(out["message"], quoted, m)
    if "reason" in out:
        out["reason"] = masking.mask_text(out["reason"], m)
    return out


def decision_line(issue: dict) -> str:
    """One line on how a fixed or waived issue was decided (``quality list --status fixed``): who, when, old and
    new value, and the rebuild that applied it. Values as ``issue`` holds them (mask it first)."""
    if not issue.get("decided_by"):
        # settled by a fix on the same record in another file (no decision of its own)
        return "已随同一记录的其他修正一并解决"
    when = issue["decided_at"].strftime("%Y-%m-%d %H:%M")
    if issue["status"] == "waived":
        what = f"忽略，原因：{issue.get('reason') or ''}"
    else:
        what = f"{issue['field'] or ''}由“{issue.get('old_value') or ''}”改为“{issue.get('new_value') or ''}”" + (
            f"，依据：{issue['reason']}" if issue.get("reason") else "")
    run = issue.get("applied_in_run")
    applied = f"第 {run} 次重新计算起生效" if run else "尚未重新计算（下次 onceonly run 时生效）"
    return f"{issue['decided_by']} 于 {when} {what}；{applied}"


def progress(conn: duckdb.DuckDBPyConnection, community: str | None = None, runs: int = 6, *,
             communities: list[str] | None = None, issues: str = "quality.issues") -> dict:
    """A steward's progress (``onceonly quality progress``, the portal's 处理进度 page): open / fixed / waived per
    kind of problem and per community, the oldest open issue, and the counts over the last ``runs`` rebuilds
    (quality.queue_trend). ``community`` (code or name) and ``communities`` (codes: a portal user's jurisdiction)
    narrow it; ``issues``: the table to read (the portal's, with decisions waiting for the next build applied)."""
    where = ("(?::VARCHAR IS NULL OR community_code = ? OR community_name = ?) "
             "AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], community_code))")
    args = [community, community, community, communities, communities]
    kinds = conn.execute(
        f"SELECT rule, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'fixed'), "
        f"count(*) FILTER (WHERE status = 'waived') FROM {issues} WHERE {where} "
        "GROUP BY rule ORDER BY 2 DESC, rule", args).fetchall()
    # a queue last built before issues carried first_seen: the time of that build is all the store knows
    seen = "first_seen" if conn.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'quality' AND "
                                        "table_name = 'issues' AND column_name = 'first_seen'").fetchall()[0][0] \
        else "built_at"
    per_community = conn.execute(
        f"SELECT community_code, any_value(community_name), count(*) FILTER (WHERE status = 'open'), "
        f"count(*) FILTER (WHERE status = 'fixed'), count(*) FILTER (WHERE status = 'waived'), "
        f"min({seen}) FILTER (WHERE status = 'open') FROM {issues} WHERE {where} "
        "GROUP BY community_code ORDER BY community_code NULLS LAST", args).fetchall()
    oldest = conn.execute(
        f"SELECT issue_id, rule, {seen}, message, field, value FROM {issues} WHERE {where} AND status = 'open' "
        f"ORDER BY {seen}, issue_id LIMIT 1", args).fetchall()
    trend = conn.execute(
        f"SELECT r.run_no, r.built_at, coalesce(sum(t.n) FILTER (WHERE t.status = 'open'), 0), "
        f"coalesce(sum(t.n) FILTER (WHERE t.status = 'fixed'), 0), coalesce(sum(t.n) FILTER (WHERE t.status = 'waived'), 0) "
        f"FROM quality.queue_runs r LEFT JOIN quality.queue_trend t ON t.run_no = r.run_no AND "
        f"{where.replace('community_', 't.community_')} GROUP BY ALL ORDER BY r.run_no DESC LIMIT {int(runs)}",
        args).fetchall() if table_exists(conn, "quality.queue_trend") else []
    return {"kinds": kinds, "communities": per_community, "oldest": oldest[0] if oldest else None,
            "trend": trend[::-1]}
