"""Stewards' decisions waiting for the next build, in the home's database (pipelines/homedb.py).

Outside a build the store is only read (pipelines/versions.py), so a fix or waiver made in the portal or with
``onceonly quality apply`` — also while a build runs — is kept here, with the columns of ``quality.corrections``;
an address decision (portal /queue/addresses, ``onceonly address alias``) likewise, with the columns of
``quality.address_aliases``.
Every build copies the ones its store lacks into ``quality.corrections`` before staging reads raw
(:func:`import_into`), so it applies them; once that build is published they are marked with its version. A
rollback to a version built before them marks them waiting again, and the next build brings them back. Until
then the portal shows an issue decided here as decided (:func:`load_temp` puts them beside the store's own).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines import homedb

# quality.corrections' columns, in its order (sql/quality/schema.sql)
COLUMNS = ("correction_id", "issue_id", "template", "batch_id", "row_no", "record_key", "field", "old_value",
           "new_value", "action", "reason", "by", "at")
QUOTED = ", ".join(f'"{c}"' for c in COLUMNS)
# quality.address_aliases' columns, in its order (sql/quality/address_aliases.sql)
ALIAS_COLUMNS = ("alias_id", "kind", "spelling", "spelling_key", "context", "context_key", "target", "target_key",
                 "action", "reason", "by", "at")
ALIAS_QUOTED = ", ".join(f'"{c}"' for c in ALIAS_COLUMNS)
# home table -> (the store's table, its key column)
KEPT = {"pending_corrections": ("quality.corrections", "correction_id"),
        "pending_address_aliases": ("quality.address_aliases", "alias_id")}


def record(home: Path, rows: list[list]) -> None:
    """Append decisions (lists in COLUMNS order; ``at`` a datetime) in one transaction."""
    if not rows:
        return
    with homedb.connect(home) as conn:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO pending_corrections ({QUOTED}) VALUES ({', '.join('?' * len(COLUMNS))})",
                         [[*r[:-1], r[-1].isoformat(timespec="microseconds")] for r in rows])
        conn.execute("COMMIT")


def record_alias(home: Path, row: list) -> None:
    """Append one address decision (a list in ALIAS_COLUMNS order; ``at`` a datetime)."""
    with homedb.connect(home) as conn:
        conn.execute(f"INSERT INTO pending_address_aliases ({ALIAS_QUOTED}) VALUES ({', '.join('?' * len(row))})",
                     [*row[:-1], row[-1].isoformat(timespec="microseconds")])


def _waiting(home: Path, table: str, quoted: str, key: str) -> list[tuple]:
    """``table``'s rows no published version holds yet, oldest first (``at``, the last column, a datetime)."""
    if not homedb.path(home).exists():
        return []
    with homedb.connect(home) as conn:
        rows = conn.execute(f'SELECT {quoted} FROM {table} WHERE published_in IS NULL ORDER BY "at", {key}').fetchall()
    return [(*r[:-1], dt.datetime.fromisoformat(r[-1])) for r in rows]


def waiting_aliases(home: Path) -> list[tuple]:
    """Address decisions no published version holds yet (ALIAS_COLUMNS), oldest first."""
    return _waiting(home, "pending_address_aliases", ALIAS_QUOTED, "alias_id")


def waiting(home: Path) -> list[tuple]:
    """Corrections no published version holds yet (COLUMNS), oldest first."""
    return _waiting(home, "pending_corrections", QUOTED, "correction_id")


def summary(home: Path) -> list:
    """[count, newest time] of every decision kept here: what a district's re-run compares (pipelines/districts.py)."""
    if not homedb.path(home).exists():
        return [0, None]
    with homedb.connect(home) as conn:
        return list(conn.execute('SELECT count(*), max("at") FROM (SELECT "at" FROM pending_corrections '
                                 'UNION ALL SELECT "at" FROM pending_address_aliases)').fetchall()[0])


_TEMP_DDL = """CREATE OR REPLACE TEMP TABLE pending_corrections (
    correction_id VARCHAR, issue_id VARCHAR, template VARCHAR, batch_id VARCHAR, row_no INTEGER, record_key VARCHAR,
    field VARCHAR, old_value VARCHAR, new_value VARCHAR, action VARCHAR, reason VARCHAR, "by" VARCHAR, "at" TIMESTAMP)"""


def load_temp(conn: duckdb.DuckDBPyConnection, home: Path) -> int:
    """TEMP table ``pending_corrections`` on ``conn`` (a read-only connection will do) with the waiting decisions."""
    rows = waiting(home)
    conn.execute(_TEMP_DDL)
    if rows:
        conn.executemany(f"INSERT INTO pending_corrections VALUES ({', '.join('?' * len(COLUMNS))})",
                         [list(r) for r in rows])
    return len(rows)


def import_into(conn: duckdb.DuckDBPyConnection, home: Path) -> list[str]:
    """Copy the waiting decisions the store lacks into ``quality.corrections`` (a build's new version, before
    staging); returns the ids of every waiting decision, all now in this store."""
    from pipelines.quality.validate import ensure_schema

    ensure_schema(conn)
    load_temp(conn, home)
    conn.execute("INSERT INTO quality.corrections SELECT * FROM pending_corrections p "
                 "WHERE NOT EXISTS (SELECT 1 FROM quality.corrections c WHERE c.correction_id = p.correction_id)")
    ids = [r[0] for r in conn.execute("SELECT correction_id FROM pending_corrections").fetchall()]
    aliases = waiting_aliases(home)
    if aliases:
        from pipelines.store import Store

        Store.run_sql(conn, "quality/address_aliases.sql")
        conn.executemany(f"INSERT INTO quality.address_aliases SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                         "WHERE NOT EXISTS (SELECT 1 FROM quality.address_aliases WHERE alias_id = ?)",
                         [[*a, a[0]] for a in aliases])
        ids += [a[0] for a in aliases]
    return ids


def mark_published(home: Path, ids: list[str], version: str) -> None:
    if not ids:
        return
    with homedb.connect(home) as conn:
        conn.execute("BEGIN")
        for table, (_, key) in KEPT.items():
            conn.executemany(f"UPDATE {table} SET published_in = ? WHERE {key} = ? AND published_in IS NULL",
                             [[version, i] for i in ids])
        conn.execute("COMMIT")


def forget_published_after(home: Path, version: str) -> None:
    """A rollback to ``version``: decisions first published after it are waiting again."""
    if not homedb.path(home).exists():
        return
    with homedb.connect(home) as conn:
        for table in KEPT:
            conn.execute(f"UPDATE {table} SET published_in = NULL WHERE published_in > ?", [version])


def overlay(conn: duckdb.DuckDBPyConnection, home: Path) -> tuple[str, str]:
    """(issues, corrections) for the portal to read on ``conn``: ``quality.issues`` and
    ``quality.active_corrections``, or — when decisions wait in the home — TEMP views with them applied, so an issue
    decided in the portal shows as decided at once, before the build that applies it."""
    if not waiting(home):
        return "quality.issues", "quality.active_corrections"
    load_temp(conn, home)
    conn.execute(f"""
        CREATE OR REPLACE TEMP VIEW portal_corrections AS
        SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY issue_id ORDER BY "at" DESC, correction_id DESC) AS rn
            FROM (SELECT {QUOTED} FROM quality.corrections UNION ALL SELECT * FROM pending_corrections)
        ) WHERE rn = 1 AND action <> 'revert';
        CREATE OR REPLACE TEMP VIEW portal_issues AS
        SELECT i.* REPLACE (coalesce(CASE w.action WHEN 'fix' THEN 'fixed' WHEN 'waive' THEN 'waived'
                                                   WHEN 'revert' THEN 'open' END, i.status) AS status)
        FROM quality.issues i
        LEFT JOIN (SELECT issue_id, arg_max(action, "at") AS action FROM pending_corrections GROUP BY 1) w
               USING (issue_id)""")
    return "portal_issues", "portal_corrections"
