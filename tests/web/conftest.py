"""Fixtures for the portal tests (the store and helpers are in portal_world.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.web import create_app
from tests.web.portal_world import add_accounts, build_portal_store, serving


@pytest.fixture(scope="session")
def portal_home(tmp_path_factory, schema_template) -> Path:
    home = tmp_path_factory.mktemp("portal") / "home"
    build_portal_store(home, schema_template)
    add_accounts(home)
    return home


@pytest.fixture(scope="session")
def app(portal_home):
    return create_app(portal_home)


@pytest.fixture(scope="session")
def live_server(app):
    with serving(app) as url:
        yield url
