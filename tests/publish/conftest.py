"""A small store for publish tests: tables with the documented columns, filled by world.sql."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

AS_OF = dt.date(2026, 10, 31)
WORLD_SQL = Path(__file__).with_name("world.sql")


def build_world(store) -> None:
    with store.connect() as conn:
        conn.execute(WORLD_SQL.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from pipelines.store import Store

    store = Store(tmp_path_factory.mktemp("world") / "store.duckdb")
    build_world(store)
    return store


@pytest.fixture(scope="module")
def conn(world):
    # One connection per module: the as-of tables are prepared once, as they are in a real run.
    with world.connect() as c:
        yield c
