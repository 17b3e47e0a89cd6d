"""Two stores, or two folders of output files, compared exactly: what an incremental build is held to
against a full rebuild of the same inbox (tests/status/test_incremental.py, `make bench`).

Tables are compared as multisets of rows (``EXCEPT ALL`` both ways, columns by name and type): a table's
physical row order is no output — every file and page that shows rows orders them. Files are compared byte for
byte.
"""
from __future__ import annotations

import filecmp
from pathlib import Path

import duckdb

# scratch holds a stage's working tables (empty between runs); the rest is what a build leaves.
COMPARED_SCHEMAS = ("raw", "staging", "core", "marts", "quality")
# When a build ran (now()): two builds of the same store at different moments differ there and nowhere else.
# first_seen is the clock of the build that first listed an issue: compared as "this build" when it is that one's.
CLOCK_COLUMNS = ("run_at", "built_at")


def _tables(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = conn.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name IN (SELECT unnest(?)) ORDER BY 1, column_index",
        [catalog, list(COMPARED_SCHEMAS)]).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, []).append((column, kind))
    return tables


def _columns(columns: list[tuple[str, str]], side: str) -> str:
    names = [c for c, _ in columns]
    picked = []
    for column in names:
        if column in CLOCK_COLUMNS:
            continue
        if column == "first_seen" and "built_at" in names:
            picked.append('CASE WHEN first_seen = built_at THEN NULL ELSE first_seen END')
        else:
            picked.append(f'"{column}"')
    return ", ".join(picked) or "1"


def store_differences(a: Path, b: Path, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """Every table or view of ``a`` and ``b`` (schemas COMPARED_SCHEMAS) that differs: missing on one side, other
    columns, or rows only on one side (counted). ``ignore``: qualified names left out. Empty: identical."""
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        conn.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        left, right = _tables(conn, "a"), _tables(conn, "b")
        found = []
        for name in sorted(set(left) | set(right)):
            if name in ignore:
                continue
            if name not in right or name not in left:
                found.append(f"{name}: only in {'a' if name in left else 'b'}")
                continue
            if left[name] != right[name]:
                found.append(f"{name}: columns differ")
                continue
            only = [conn.execute(f"SELECT count(*) FROM (SELECT {_columns(left[name], x)} FROM {x}.{name} "
                                 f"EXCEPT ALL SELECT {_columns(left[name], y)} FROM {y}.{name})").fetchall()[0][0]
                    for x, y in (("a", "b"), ("b", "a"))]
            if any(only):
                found.append(f"{name}: {only[0]} rows only in a, {only[1]} only in b")
        return found
    finally:
        conn.close()


def file_differences(a: Path, b: Path) -> list[str]:
    """Files under ``a`` and ``b`` (relative paths) missing on one side or with other bytes. Empty: identical."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} if a.exists() else set()
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()} if b.exists() else set()
    found = [f"{p}: only in {'a' if p in files_a else 'b'}" for p in sorted(files_a ^ files_b)]
    found += [f"{p}: other bytes" for p in sorted(files_a & files_b)
              if not filecmp.cmp(a / p, b / p, shallow=False)]
    return found
