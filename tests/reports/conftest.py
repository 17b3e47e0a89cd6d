"""The publish tests' small street (tests/publish/world.sql), for report tests."""
from __future__ import annotations

import contextlib
import datetime as dt

import pytest

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def conn(tmp_path_factory, world_template):
    from tests.schema import copy_of

    with copy_of(world_template, tmp_path_factory.mktemp("world")).connect() as c:
        yield c


@pytest.fixture(scope="module")
def rendered(conn, tmp_path_factory):
    """Every report of the small street with disclosure control set to hide nothing (min_count 1): these
    tests check what a report counts, on a street whose every count is small. tests/reports/test_sdc.py
    checks the configured rule."""
    from pipelines.reports import render_all

    out = tmp_path_factory.mktemp("reports")
    with hiding_nothing():
        return out, render_all(conn, out_dir=out, as_of=AS_OF, home=tmp_path_factory.mktemp("home"))


@contextlib.contextmanager
def hiding_nothing():
    from pipelines.reports import sdc

    marker = sdc.rule().marker
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sdc, "rule", lambda: sdc.Rule(1, marker))
        yield
