"""Fixtures for the portal tests (the store and helpers are in portal_world.py)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.web import add_user, create_app
from tests.web.portal_world import ACCOUNTS, PASSWORD, build_portal_store


@pytest.fixture(scope="session")
def portal_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("portal") / "home"
    build_portal_store(home)
    for user, (dept, scope) in ACCOUNTS.items():
        add_user(home, user, PASSWORD, dept, scope)
    return home


@pytest.fixture(scope="session")
def app(portal_home):
    return create_app(portal_home)


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """``app`` on a real loopback socket (uvicorn in a thread, configured as ``onceonly serve`` does)."""
    import socket
    import threading
    import time

    import uvicorn

    from pipelines.web.app import uvicorn_config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, backlog=1024))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture(scope="session")
def live_server(app):
    with serving(app) as url:
        yield url
