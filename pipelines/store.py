"""The one DuckDB store, and the only way code reaches it.

DuckDB allows one writer process, so every asset that touches the store runs
in-process (see ``definitions.py``) and opens it through :class:`Store`.
SQL lives in ``sql/`` by layer; :meth:`Store.run_sql` runs one file with named
variables (read in SQL with ``getvariable('name')``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import UserFacingError
from pipelines.paths import SQL_DIR

# scratch: a stage's working tables too large to keep in memory at city scale. Kept in the store,
# not as TEMP tables: a stored table is written once, compressed, and its blocks can be evicted with
# no further write (a TEMP table is written to the temp folder under memory pressure, ≈ 1.4× larger
# for ID-like strings). Each stage drops its own at its end.
SCHEMAS = ("raw", "staging", "core", "marts", "quality", "scratch")


def env_memory_limit() -> str | None:
    """DuckDB's memory limit for the pipeline's runs, from ONCEONLY_MEMORY_LIMIT (README: a city on 24 GB needs 17GB)."""
    return os.environ.get("ONCEONLY_MEMORY_LIMIT")


# sql/macros live in an in-memory catalog attached once to each open database: every connection to it (a run's
# many steps, the loader's threads) finds them on its search path, where TEMP macros would be created anew in
# each connection. In memory, so the store never depends on the code version that wrote it.
MACRO_CATALOG = "onceonly_macros"
_macro_lock = threading.Lock()   # one open database may be shared by threads (DuckDB's instance cache, cursors)


def _macro_sql() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((SQL_DIR / "macros").glob("*.sql")))


def use_macros(conn: duckdb.DuckDBPyConnection) -> None:
    """Put sql/macros on ``conn``'s search path, loading them into its database's macro catalog first if no
    connection to that database has yet."""
    database = conn.execute("SELECT current_database()").fetchall()[0][0]
    with _macro_lock:
        if not conn.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?",
                            [MACRO_CATALOG]).fetchall()[0][0]:
            # READ_WRITE: a read-only store's connection may still hold the macros in memory
            conn.execute(f"ATTACH ':memory:' AS {MACRO_CATALOG} (READ_WRITE)")
            try:
                conn.execute(f"USE {MACRO_CATALOG}")
                conn.execute(_macro_sql())
            except BaseException:
                conn.execute(f'USE "{database}"')
                conn.execute(f"DETACH {MACRO_CATALOG}")   # never leave half the macros for the next connection
                raise
            conn.execute(f'USE "{database}"')
    conn.execute(f"SET search_path = '\"{database}\".main,{MACRO_CATALOG}.main'")


def table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether ``schema.name`` is a table or view of the store (one place for every layer's "built yet?")."""
    schema, _, name = qualified.partition(".")
    # duckdb_tables()/duckdb_views(), not information_schema: asked at every step, and far cheaper. Only the
    # store's own catalog (and TEMP), as an unqualified name resolves: the city pass attaches district stores
    # holding the same schemas, whose tables a query of ``schema.name`` would not find.
    return bool(conn.execute("SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
                             "AND database_name IN (current_database(), 'temp')) "
                             "+ (SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ? "
                             "AND database_name IN (current_database(), 'temp'))",
                             [schema, name, schema, name]).fetchall()[0][0])


def insert_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: list) -> None:
    """``rows`` (sequences of one length) into ``table`` in one statement: DuckDB's executemany runs one statement
    per row, milliseconds each."""
    if rows:
        one = "(" + ", ".join("?" * len(rows[0])) + ")"
        conn.execute(f"INSERT INTO {table} VALUES " + ", ".join([one] * len(rows)), [v for r in rows for v in r])


def set_variables(conn: duckdb.DuckDBPyConnection, variables: Mapping[str, Any]) -> None:
    for name, value in variables.items():
        if isinstance(value, dt.date):
            conn.execute(f"SET VARIABLE {name} = ?::DATE", [value.isoformat()])
        else:
            conn.execute(f"SET VARIABLE {name} = ?", [value])


def dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """The rows of an executed query, each a dict by column name."""
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def sql_text(relative: str) -> str:
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def worker_connection(conn: duckdb.DuckDBPyConnection, macros: bool = True) -> duckdb.DuckDBPyConnection:
    """Another connection to ``conn``'s open store, for work on another thread: its own transaction,
    TEMP tables and variables, the same data and memory limit, the macros loaded. Close it after use."""
    database = conn.execute("SELECT current_database()").fetchall()[0][0]
    cursor = conn.cursor()
    cursor.execute(f'USE "{database}"')  # an encrypted store is ATTACHed: the cursor starts in memory
    if macros:
        use_macros(cursor)
    return cursor


def attach_read_only(conn: duckdb.DuckDBPyConnection, alias: str, path: Path | str) -> None:
    """Another store file beside ``conn``'s, read-only, as catalog ``alias`` (a district store for the city pass,
    the previous version for the run report); with the store key when the stores are encrypted."""
    key = store_key()
    options = "READ_ONLY" + (", ENCRYPTION_KEY " + _quote(key) if key else "")
    conn.execute(f"ATTACH {_quote(str(path))} AS {alias} ({options})")


class StoreKeyError(UserFacingError, RuntimeError):
    """The store is (or must be) encrypted and cannot be opened as configured."""


def store_key() -> str | None:
    """``$ONCEONLY_STORE_KEY``, else the first line of ``$ONCEONLY_STORE_KEY_FILE``, else None (unencrypted).
    See docs/security.md: the demo runs unencrypted, production sets a key."""
    key = os.environ.get("ONCEONLY_STORE_KEY")
    if not key and os.environ.get("ONCEONLY_STORE_KEY_FILE"):
        key = Path(os.environ["ONCEONLY_STORE_KEY_FILE"]).read_text(encoding="utf-8").strip()
    if key and not key.isascii():
        raise StoreKeyError("数据库密钥只能包含英文字母、数字和符号（ASCII）")
    return key or None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _open_encrypted(path: Path, key: str, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    # ATTACH takes no bound parameters, hence the quoting; the key never reaches a log.
    conn = duckdb.connect(":memory:", config=config)
    try:
        if not read_only:
            try:
                conn.execute("LOAD httpfs")   # OpenSSL crypto: DuckDB writes encrypted files only with it
            except duckdb.Error as exc:
                raise StoreKeyError(
                    "写入加密数据库需要 DuckDB 的 httpfs 扩展（INSTALL httpfs），本机无法加载：" + str(exc).splitlines()[0]
                ) from None
        options = "ENCRYPTION_KEY " + _quote(key) + (", READ_ONLY" if read_only else "")
        try:
            conn.execute(f"ATTACH {_quote(str(path))} AS store ({options})")
        except duckdb.Error as exc:
            raise StoreKeyError(f"无法打开加密数据库 {path}：密钥错误或文件未加密（{str(exc).splitlines()[0]}）") from None
        conn.execute("USE store")
        return conn
    except BaseException:
        conn.close()
        raise


class Store:
    """A DuckDB store file. Cheap to construct; connections are opened per use."""

    def __init__(self, path: Path | str, memory_limit: str | None = None, threads: int | None = None):
        self.path = Path(path)
        self.memory_limit = memory_limit
        self.threads = threads
        self._held: duckdb.DuckDBPyConnection | None = None

    @contextlib.contextmanager
    def held_open(self) -> Iterator[Store]:
        """Keep the database open while the block runs: each ``connect()`` inside it is another connection to
        the open database (its own transaction, TEMP tables and variables) instead of opening the file again —
        20–30 ms each, and a checkpoint at each close, for every one of a run's ≈ 50 steps (StoreResource).
        The file stays locked for writing throughout: it is the version the run builds, which no one else opens."""
        with self.connect(macros=False) as held:
            self._held = held
            try:
                yield self
            finally:
                self._held = None

    @contextlib.contextmanager
    def connect(self, read_only: bool = False, macros: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the store; encrypted when a key is configured (:func:`store_key`).
        ``macros=False`` leaves sql/macros off the search path, for connections that only read tables (loading them
        costs ≈ 45 ms on the first connection to a database).
        Inside ``held_open`` every connection can write: the open database is the writer."""
        if self._held is not None:
            conn = worker_connection(self._held, macros=macros)
            try:
                yield conn
            finally:
                conn.close()
            return
        conn = self.open(read_only=read_only, macros=macros)
        try:
            yield conn
        finally:
            conn.close()

    def open(self, read_only: bool = False, macros: bool = True) -> duckdb.DuckDBPyConnection:
        """:meth:`connect` without the block: the caller closes it (the portal keeps the live version open)."""
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        key = store_key()
        # The file itself, not a link to it (the live version is a link: pipelines/versions.py): its .wal and .tmp
        # sit beside the version they belong to, and an open connection keeps the version it opened.
        path = Path(os.path.realpath(self.path))
        if key is None:
            conn = duckdb.connect(str(path), read_only=read_only, config=config)
        else:
            conn = _open_encrypted(path, key, read_only, config)
        try:
            if not read_only:
                for schema in SCHEMAS:
                    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            if macros:
                use_macros(conn)
            return conn
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def run_sql(conn: duckdb.DuckDBPyConnection, relative: str, **variables: Any) -> None:
        """Run one SQL file of ``sql/`` (may hold several statements)."""
        set_variables(conn, variables)
        conn.execute(sql_text(relative))

    @staticmethod
    def table_exists(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
        return table_exists(conn, qualified)
