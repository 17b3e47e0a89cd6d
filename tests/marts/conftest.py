from __future__ import annotations

import pytest

from tests.status.status_world import World


@pytest.fixture
def world(store):
    """The status tests' hand-written inputs, in a real store file; yields (conn, World)."""
    with store.connect() as conn:
        yield conn, World(conn)
