"""Evidence and status as of a date D (contract §2).

``build_evidence`` writes ``core.evidence`` (as-of independent); ``build_status`` writes
``core.person_status`` for one D; ``explain`` tells a clerk, in Chinese, why a person has the
status they have. The rules themselves live once, in ``sql/core/status_rules.sql``.

Decisions taken where the contract is silent (the demo truth, pipelines/demo/truth.py, reads
the contract the same way):

* Evidence dated after D is ignored, including a floating 注销 dated after D: on D the
  registration is still in force, so it is presence and its residence permit still counts.
* A hukou 迁出/注销/死亡 without 变动日期 is known on every D; against P it is dated D.
  A floating 注销原因 without 注销日期 does not deregister ("on or before D" needs a date);
  a 注销日期 without a known reason ends the registration (no presence, not 登记人口) but is
  neither departure nor death evidence (not in the contract's lists).
* Presence needs a house ("each with a date and a house"): a floating registration whose
  address matched no house is no presence.
* A departure dated the same day as P is not newer than P: the person stays. Hence a hukou 迁出
  dated before P (hukou moved away, still lives here) gives 在住 when P is fresh.
* A visit 已搬离/人户分离/查无此人 needs a P and must be at P's house; without P it says
  nothing. A visit 已死亡 is death evidence at any house (the contract restricts only departures
  to P's house). A visit 空置 is listed but decides nothing.
* In the freshness window: D - P <= W days (P exactly W days old is still 在住).
* Same-day presence ties: visit > census > police registration > permit, then the newest file, then
  the lowest row (files loaded in the same microsecond: the lower batch number).
* Category: 户籍人口 when any hukou row on or before D (or undated) is 正常; 流动人口 needs a
  floating registration dated on or before D, deregistered or not. A person with none of the
  category sources (e.g. only 死亡登记 or 社会救助) has no category.
* 登记人口, literally: any hukou 迁出/注销 or floating 注销 on or before D removes the person, even
  if a registration is in force again (e.g. 注销 转为户籍 followed by hukou 正常).
* Persons whose every record is dated after D are not in ``core.person_status`` for that D.
* Persons with only 社会救助/残疾人 records are 待核实 (on record, never seen living here).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.status.explain import explain
from pipelines.status import delta
from pipelines.store import Store, set_variables

__all__ = ["build_evidence", "build_status", "explain", "prepare_status", "status_at"]


def build_evidence(conn: duckdb.DuckDBPyConnection, *, incremental: bool = False) -> str:
    """core.evidence from core.person_links/person_records and raw.batches. ``incremental`` (a build): only
    the persons the new batches can change, when the last build's evidence was made from the same code and
    steward fixes (pipelines/status/delta.py); they are handed to ``build_status`` in scratch.person_delta.
    Returns how it was built: 'full' or 'delta'."""
    conn.execute("DROP TABLE IF EXISTS scratch.person_delta")
    # the records whose links changed since the last evidence build (identity's runs hand them on); no table: not
    # known, every link is compared (sql/core/evidence_delta.sql)
    conn.execute("CREATE SCHEMA IF NOT EXISTS scratch")
    conn.execute("CREATE TABLE IF NOT EXISTS scratch.link_delta AS SELECT NULL::VARCHAR AS record_key")
    # the records person_records built again since the last evidence build (their house may have changed), when
    # its change set is the one right after the one this step last read and not a whole rebuild's; else every
    # record's house is compared (sql/core/evidence_delta.sql)
    handed = delta.records_handed(conn, "evidence")
    conn.execute("CREATE OR REPLACE TEMP TABLE _records_handed AS "
                 + ("SELECT record_id FROM scratch.record_delta" if handed else "SELECT NULL::BIGINT AS record_id"))
    set_variables(conn, {"records_handed": handed})
    how = delta.build_step(conn, "evidence", delta.evidence_fingerprint(conn), incremental=incremental,
                           rows_sql="core/evidence.sql", delta_sql="core/evidence_delta.sql",
                           full_sql="core/evidence_build.sql", needs=("core.evidence",), variable="evidence_delta")
    conn.execute("DROP TABLE scratch.link_delta")
    conn.execute("DROP TABLE _records_handed")
    delta.read_handed(conn, "person_records", "evidence")
    delta.hand_on_to_reports(conn, how)
    return how


def prepare_status(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date, freshness_days: int = 365,
                   person_key: str | None = None, only_delta: bool = False) -> None:
    """Create the TEMP tables and views of the status rules on this connection (one person, everyone, or with
    ``only_delta`` the persons of TEMP _status_delta)."""
    if freshness_days < 0:
        raise ValueError(f"在住证据有效期不能为负数：{freshness_days}")
    Store.run_sql(conn, "core/status_rules.sql", as_of=as_of, freshness_days=int(freshness_days),
                  status_person=person_key, status_delta=only_delta)


def build_status(conn: duckdb.DuckDBPyConnection, *, as_of: dt.date, freshness_days: int = 365,
                 incremental: bool = False) -> str:
    """core.person_status for as-of date ``as_of`` and window ``freshness_days``. ``incremental`` (a build):
    only for the persons ``build_evidence`` rebuilt and those whose house changed grid, when the stored rows
    are for the same date, window and code. Returns 'full' or 'delta'."""
    fingerprint = delta.status_fingerprint(as_of, freshness_days)
    if incremental and delta.can_keep(conn, "status", fingerprint, "scratch.person_delta", "core.person_status"):
        Store.run_sql(conn, "core/person_status_delta.sql")
        prepare_status(conn, as_of=as_of, freshness_days=freshness_days, only_delta=True)
        Store.run_sql(conn, "core/person_status_replace.sql")
        how = "delta"
    else:
        conn.execute("DROP TABLE IF EXISTS scratch.person_delta")
        prepare_status(conn, as_of=as_of, freshness_days=freshness_days)
        Store.run_sql(conn, "core/person_status.sql")
        how = "full"
    Store.run_sql(conn, "core/status_release.sql")
    delta.remember(conn, "status", fingerprint)
    delta.hand_on_to_reports(conn, how)
    return how


def status_at(conn: duckdb.DuckDBPyConnection, table: str, *, as_of: dt.date, freshness_days: int | None = None) -> None:
    """TEMP table ``table``: every person's row of core.person_status as it would be for another date, decided by
    the same rules in one set-based pass, the store untouched (a report's period start: 人口变动月报). The window
    is the one the store's statuses were decided with unless given. Made once per connection, date and window (the
    portal renders a report for each jurisdiction on one connection)."""
    if freshness_days is None:
        [(freshness_days,)] = conn.execute("SELECT max(freshness_days) FROM core.person_status").fetchall()
    try:
        if conn.execute(f"SELECT DISTINCT as_of, freshness_days FROM {table}").fetchall() == [(as_of, freshness_days)]:
            return
    except duckdb.CatalogException:
        pass
    prepare_status(conn, as_of=as_of, freshness_days=365 if freshness_days is None else freshness_days)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM status_result")
    Store.run_sql(conn, "core/status_release.sql")
