from __future__ import annotations

import pytest

from tests.status.status_world import World


@pytest.fixture
def world(schema_store):
    """The product's tables with the status inputs written by hand; yields (conn, World)."""
    with schema_store.connect() as conn:
        yield conn, World(conn)
