from __future__ import annotations

import pytest

from tests.status.status_world import World


@pytest.fixture
def world(schema_store):
    """The status tests' hand-written inputs, in the product's tables; yields (conn, World)."""
    with schema_store.connect() as conn:
        yield conn, World(conn)
