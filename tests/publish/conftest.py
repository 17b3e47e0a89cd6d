"""A small store for publish tests: tables with the documented columns, filled by world.sql."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

AS_OF = dt.date(2026, 10, 31)
WORLD_SQL = Path(__file__).with_name("world.sql")


def load_world(conn) -> None:
    """world.sql's raw, staging and core rows, then the marts every output reads, by the product's SQL. ``conn`` is
    to a copy of the product's empty tables (tests/schema.py), which world.sql inserts into by name."""
    from pipelines.marts import build_output_marts
    from pipelines.store import Store

    conn.execute(WORLD_SQL.read_text(encoding="utf-8"))
    build_output_marts(conn, as_of=AS_OF)
    Store.run_sql(conn, "marts/grid_population.sql", as_of=AS_OF)
    Store.run_sql(conn, "marts/grid_series.sql")


def build_world(store) -> None:
    with store.connect() as conn:
        load_world(conn)


@pytest.fixture(scope="module")
def world(tmp_path_factory, world_template):
    from tests.schema import copy_of

    return copy_of(world_template, tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def conn(world):
    # One connection per module: the as-of tables are prepared once, as they are in a real run.
    with world.connect() as c:
        yield c
