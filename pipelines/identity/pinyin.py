"""Name pinyin, computed once per distinct name and cached in ``core.identity_name_pinyin``."""
from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml
from pypinyin import Style, lazy_pinyin

CONFIG_PATH = Path(__file__).with_name("identity.yaml")


@functools.cache
def load_config() -> dict:
    return yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))


@functools.cache
def _char_pinyin(ch: str) -> str:
    # Names are not phrases: reading character by character avoids phrase-dictionary
    # readings and lets one cache of a few thousand characters serve millions of names.
    return lazy_pinyin(ch, style=Style.NORMAL, errors=lambda s: s.lower())[0]


@functools.cache
def _surnames() -> tuple[tuple[str, str], ...]:
    # Cached: sorting the readings once per name was most of the pinyin step at 1M persons.
    readings = load_config()["surname_readings"]
    return tuple(sorted(readings.items(), key=lambda kv: -len(kv[0])))


def name_pinyin(name: str) -> tuple[str, str]:
    """(full pinyin, surname pinyin), syllables separated by spaces, surname read as a surname."""
    surname_py = None
    rest = name
    for surname, reading in _surnames():
        if name.startswith(surname):
            surname_py, rest = reading, name[len(surname):]
            break
    if surname_py is None:
        surname_py, rest = (_char_pinyin(name[0]) if name else ""), name[1:]
    syllables = [surname_py] + [_char_pinyin(ch) for ch in rest]
    return " ".join(s for s in syllables if s), surname_py


def refresh_name_pinyin(conn: duckdb.DuckDBPyConnection, records: str = "core.person_records") -> int:
    """Add pinyin for names of ``records`` (a relation of core.person_records' rows: all of them, or those a build
    may have added) not yet in the cache; returns how many."""
    conn.execute("""
        CREATE TABLE IF NOT EXISTS core.identity_name_pinyin (
            name VARCHAR, pinyin VARCHAR, surname_pinyin VARCHAR)
    """)
    names = [n for (n,) in conn.execute(f"""
        SELECT DISTINCT name FROM {records}
        WHERE name IS NOT NULL AND name <> ''
          AND name NOT IN (SELECT name FROM core.identity_name_pinyin)
    """).fetchall()]
    if not names:
        return 0
    # One Python call per distinct name (~130k at 1M persons, under a second), not per row.
    readings = [name_pinyin(n) for n in names]
    frame = pa.table({
        "name": names,
        "pinyin": [r[0] for r in readings],
        "surname_pinyin": [r[1] for r in readings],
    })
    conn.register("_identity_new_pinyin", frame)
    try:
        conn.execute("INSERT INTO core.identity_name_pinyin SELECT name, pinyin, surname_pinyin FROM _identity_new_pinyin")
    finally:
        conn.unregister("_identity_new_pinyin")
    return len(names)
