"""Dagster resources, declared once: the store and the run's settings."""
from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from pipelines.paths import default_home, store_path
from pipelines.store import Store, env_memory_limit


class StoreResource(dg.ConfigurableResource):
    """The DuckDB store under ``home``. Open it only from in-process steps."""

    home: str
    memory_limit: str | None = None
    threads: int | None = None
    # how long a run waits for a store another process holds (the portal: a page's milliseconds)
    lock_wait_seconds: float = 10.0
    _store: Store | None = PrivateAttr(default=None)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        # The run's steps share one open database (Store.held_open) instead of each opening the file. The bench
        # builds a city the same way, on one connection for every stage: its peak RSS is this memory profile.
        store = self._new_store()
        with store.held_open(lock_wait_seconds=self.lock_wait_seconds):
            self._store = store
            try:
                yield self
            finally:
                self._store = None

    def get(self) -> Store:
        return self._store or self._new_store()

    def _new_store(self) -> Store:
        return Store(store_path(Path(self.home)), memory_limit=self.memory_limit, threads=self.threads)


class RunSettings(dg.ConfigurableResource):
    """What a run works on: the inbox, the reference date, where outputs go."""

    home: str
    inbox: str
    as_of: str = ""             # ISO date; empty means today
    freshness_days: int = 365   # contract §2: window W

    @property
    def as_of_date(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of) if self.as_of else dt.date.today()

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @property
    def inbox_path(self) -> Path:
        return Path(self.inbox)


def default_resources() -> dict:
    """Resources for `dagster dev`, from the environment (the CLI builds its own)."""
    import os

    home = str(default_home())
    return {
        "store": StoreResource(home=home, memory_limit=env_memory_limit()),
        "settings": RunSettings(
            home=home,
            inbox=os.environ.get("ONCEONLY_INBOX", str(Path(home) / "inbox")),
            as_of=os.environ.get("ONCEONLY_AS_OF", ""),
        ),
    }
