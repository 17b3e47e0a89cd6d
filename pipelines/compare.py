"""Two stores, or two folders of output files, compared exactly: what an incremental build is held to
against a full rebuild of the same inbox (tests/status/test_incremental.py, `make bench`), and what a change
that should not change any output is held to (every output of a home rendered before and after it).

Tables are compared as multisets of rows (``EXCEPT ALL`` both ways, columns by name and type): a table's
physical row order is no output — every file and page that shows rows orders them. Files are compared byte for
byte.

    python -m pipelines.compare stores A.duckdb B.duckdb
    python -m pipelines.compare render HOME OUT --as-of D     every output of HOME's live version into OUT
    python -m pipelines.compare files OUT_A OUT_B
    python -m pipelines.compare outputs HOME_A HOME_B --as-of D   render both (this code), compare
Exit status 1 when something differs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import shutil
import sys
import tempfile
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


def render_outputs(home: Path, as_of: dt.date, out: Path, departments: list[str] | None = None) -> int:
    """Every output of ``home``'s live version as files under ``out``: each report and each extract in every
    format, for every department of reports/departments.yaml (or those named) over the scopes its level allows (the
    whole store, the first community, the first grid of it), a refusal as a ``.refused.txt`` holding its message;
    the reports the build wrote (``run/``) and the files it made for the portal (``portal/``). No handout is
    recorded. Returns the number of files."""
    from pipelines.publish import load_registry
    from pipelines.publish.extracts import FORMATS, SUFFIX, extract_file
    from pipelines.publish.grants import NotAvailable, resolve_scope
    from pipelines.publish.registry import GrantRefused
    from pipelines.reports import report_files
    from pipelines.store import Store
    from pipelines.paths import store_path
    from pipelines.versions import live

    reg = load_registry()
    out.mkdir(parents=True, exist_ok=True)
    with Store(store_path(home)).connect(read_only=True) as conn:
        community, grid = conn.execute(
            "SELECT community_code, min(grid_code) FROM marts.grids GROUP BY 1 ORDER BY 1 LIMIT 1").fetchall()[0]
        for dept, d in reg.departments.items():
            if departments is not None and dept not in departments:
                continue
            scopes = {"grid": [grid], "community": [community]}.get(d.level, [None, community, grid])
            for scope in scopes:
                folder = out / dept / str(scope or "全库")
                for name in d.reports:
                    try:
                        report_files(conn, name, out_dir=folder / "reports", as_of=as_of,
                                     scope=resolve_scope(conn, d, scope), shown=reg.report_masking(dept))
                    except (GrantRefused, NotAvailable) as exc:
                        _refused(folder / "reports" / name, exc)
                for name, grant in d.extracts.items():
                    for fmt in FORMATS:
                        target = folder / "extracts" / f"{name}.{fmt}.{SUFFIX[fmt]}"
                        try:
                            extract_file(conn, name, fmt=fmt, out=target, dept=dept, scope=scope, as_of=as_of,
                                         user=grant.users[0] if grant.users else "compare")
                        except (GrantRefused, NotAvailable) as exc:
                            _refused(target, exc)
    if (home / "reports").is_dir():
        shutil.copytree(home / "reports", out / "run", dirs_exist_ok=True)
    version = live(home)
    if version is not None and (version.dir / "files").is_dir():
        shutil.copytree(version.dir / "files", out / "portal", dirs_exist_ok=True)
    return sum(1 for p in out.rglob("*") if p.is_file())


def _refused(path: Path, exc: Exception) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_name(path.name + ".refused.txt").write_text(str(exc), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.compare", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for what, a, b in (("stores", "A", "B"), ("files", "A", "B"), ("render", "HOME", "OUT"), ("outputs", "HOME_A", "HOME_B")):
        p = sub.add_parser(what)
        p.add_argument(a.lower(), type=Path, metavar=a)
        p.add_argument(b.lower(), type=Path, metavar=b)
        if what in ("render", "outputs"):
            p.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
            p.add_argument("--department", action="append", help="only this department's outputs (repeatable)")
    args = parser.parse_args(argv)
    if args.what == "render":
        print(f"{render_outputs(args.home, args.as_of, args.out, args.department)} files in {args.out}")
        return 0
    if args.what == "stores":
        found = store_differences(args.a, args.b)
    elif args.what == "files":
        found = file_differences(args.a, args.b)
    else:
        with tempfile.TemporaryDirectory(prefix="onceonly-compare-") as tmp:
            n = [render_outputs(h, args.as_of, Path(tmp) / side, args.department) for h, side in ((args.home_a, "a"), (args.home_b, "b"))]
            found = file_differences(Path(tmp) / "a", Path(tmp) / "b")
            print(f"{n[0]} files from {args.home_a}, {n[1]} from {args.home_b}")
    print("\n".join(found) if found else "identical")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
