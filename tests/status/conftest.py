from __future__ import annotations

import pytest

from tests.status.status_world import World


@pytest.fixture
def world(store):
    """A real store file with the status inputs written by hand; yields (conn, World)."""
    with store.connect() as conn:
        yield conn, World(conn)
