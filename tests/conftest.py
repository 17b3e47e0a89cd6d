"""Shared fixtures: every test gets real files in a temporary folder, never a mock."""
from __future__ import annotations

import pytest

from pipelines.sources import load_catalog
from pipelines.store import Store


# Whole-graph runs: the demo street or a small street through Dagster, or a module named *_e2e.py. They take
# most of `make test`; `make test-fast` leaves them (and every test marked slow by hand) out, `make test` and CI
# run them.
WHOLE_GRAPH_FIXTURES = {"demo_world", "small_home", "small_street"}


def pytest_collection_modifyitems(items):
    for item in items:
        if WHOLE_GRAPH_FIXTURES & set(getattr(item, "fixturenames", ())) or item.path.stem.endswith("_e2e"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def closure_at_any_size(monkeypatch):
    """Identity decides the dirty closure however large it is: a test's batch is most of its small street, which
    would otherwise be linked by a full run (cheaper then, link._MAX_CLOSURE_SHARE), its closure's exactness
    not tested."""
    from pipelines.identity import link

    monkeypatch.setattr(link, "_MAX_CLOSURE_SHARE", 1.0)


@pytest.fixture
def catalog():
    return load_catalog()


@pytest.fixture
def store(tmp_path) -> Store:
    """An empty DuckDB store file under the test's temporary folder."""
    return Store(tmp_path / "home" / "store.duckdb")


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory):
    """The product's empty raw, staging and core tables (tests/schema.py), built once per run."""
    from tests.schema import build_schema

    return build_schema(tmp_path_factory.mktemp("schema") / "store.duckdb")


@pytest.fixture
def schema_store(schema_template, tmp_path) -> Store:
    """A private copy of the empty store with the product's tables, for a test world to fill."""
    from tests.schema import copy_of

    return copy_of(schema_template, tmp_path / "home")


@pytest.fixture(scope="session")
def world_template(schema_template, tmp_path_factory):
    """The small street of tests/publish/world.sql with its marts, built once per run: a module copies it."""
    from tests.publish.conftest import build_world
    from tests.schema import copy_of

    store = copy_of(schema_template, tmp_path_factory.mktemp("world-template"))
    build_world(store)
    return store.path


DEMO_AS_OF = __import__("datetime").date(2026, 10, 31)


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory):
    """The default demo street (20,000 persons), generated and run once through the whole
    Dagster graph. Tests that change the store must work on `demo_copy` instead."""
    import dagster as dg

    from pipelines import demo
    from pipelines.runner import run_pipeline

    root = tmp_path_factory.mktemp("demo")
    inbox, truth, home = root / "inbox", root / "truth", root / "home"
    demo.generate(inbox, truth, persons=20000, seed=7, as_of=DEMO_AS_OF)
    summary = run_pipeline(home=home, inbox=inbox, as_of=DEMO_AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert summary.success, summary.error
    return {"inbox": inbox, "truth": truth, "home": home, "summary": summary}


@pytest.fixture
def demo_copy(demo_world, tmp_path):
    """A private copy of the demo store (and inbox) that a test may change."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(demo_world["home"], home, symlinks=True)   # store.duckdb: the link to the live version
    inbox = tmp_path / "inbox"
    shutil.copytree(demo_world["inbox"], inbox)
    return {"inbox": inbox, "truth": demo_world["truth"], "home": home}


@pytest.fixture(scope="session")
def demo_outputs_home(demo_world, tmp_path_factory):
    """One copy of the demo home for the tests that render every output from it (disclosure control, the
    leak scanner): rendering appends to the store's audit, which demo_world must not see."""
    import shutil

    home = tmp_path_factory.mktemp("demo-outputs") / "home"
    shutil.copytree(demo_world["home"], home)
    return home


@pytest.fixture(scope="session")
def small_street(tmp_path_factory):
    """A small street (300 persons) generated and run once: its inbox and a home with one published store
    version. Tests copy it before changing it (``shutil.copytree(..., symlinks=True)`` keeps the live link)."""
    from pipelines.demo.generate import generate
    from pipelines.runner import run_pipeline

    root = tmp_path_factory.mktemp("small-street")
    generate(root / "inbox", root / "truth", persons=300)
    summary = run_pipeline(home=root / "home", inbox=root / "inbox", as_of=DEMO_AS_OF)
    assert summary.success and summary.published, summary.error
    return root
