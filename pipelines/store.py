"""The one DuckDB store, and the only way code reaches it.

DuckDB allows one writer process, so every asset that touches the store runs
in-process (see ``definitions.py``) and opens it through :class:`Store`.
SQL lives in ``sql/`` by layer; :meth:`Store.run_sql` runs one file with named
variables (read in SQL with ``getvariable('name')``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines.paths import SQL_DIR

SCHEMAS = ("raw", "staging", "core", "marts", "quality", "audit")


def _macro_sql() -> str:
    # Macros are TEMP: the store never depends on the code version that wrote it.
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((SQL_DIR / "macros").glob("*.sql")))


def set_variables(conn: duckdb.DuckDBPyConnection, variables: Mapping[str, Any]) -> None:
    for name, value in variables.items():
        if isinstance(value, dt.date):
            conn.execute(f"SET VARIABLE {name} = ?::DATE", [value.isoformat()])
        else:
            conn.execute(f"SET VARIABLE {name} = ?", [value])


def sql_text(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


class Store:
    """A DuckDB store file. Cheap to construct; connections are opened per use."""

    def __init__(self, path: Path | str, memory_limit: str | None = None, threads: int | None = None):
        self.path = Path(path)
        self.memory_limit = memory_limit
        self.threads = threads

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        conn = duckdb.connect(str(self.path), read_only=read_only, config=config)
        try:
            if not read_only:
                for schema in SCHEMAS:
                    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            conn.execute(_macro_sql())
            yield conn
        finally:
            conn.close()

    @staticmethod
    def run_sql(conn: duckdb.DuckDBPyConnection, relative: str, **variables: Any) -> None:
        """Run one SQL file of ``sql/`` (may hold several statements)."""
        set_variables(conn, variables)
        conn.execute(sql_text(relative))

    def table_exists(self, conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
        schema, _, name = qualified.partition(".")
        return bool(conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()[0][0])
