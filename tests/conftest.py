"""Shared fixtures: every test gets real files in a temporary folder, never a mock."""
from __future__ import annotations

import pytest

from pipelines.sources import load_catalog
from pipelines.store import Store


@pytest.fixture
def catalog():
    return load_catalog()


@pytest.fixture
def store(tmp_path) -> Store:
    """An empty DuckDB store file under the test's temporary folder."""
    return Store(tmp_path / "home" / "store.duckdb")
