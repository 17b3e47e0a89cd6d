"""Fixtures for the portal tests (the store and helpers are in portal_world.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.web import create_app
from tests.web.portal_world import add_accounts, build_portal_store


@pytest.fixture(scope="session")
def portal_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("portal") / "home"
    build_portal_store(home)
    add_accounts(home)
    return home


@pytest.fixture(scope="session")
def app(portal_home):
    return create_app(portal_home, secret_key="test-secret-key-not-for-production")


@pytest.fixture(scope="session")
def live_server(app):
    """The portal on a real loopback socket (uvicorn in a thread)."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           backlog=1024))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)
