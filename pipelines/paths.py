"""Where things are: the repository's data folders and a store's home folder."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
SOURCES_DIR = REPO_ROOT / "sources"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
REPORTS_DIR = REPO_ROOT / "reports"


def default_home() -> Path:
    """``$ONCEONLY_HOME``, else ``./.onceonly`` (contract §3)."""
    return Path(os.environ.get("ONCEONLY_HOME") or ".onceonly").resolve()


def store_path(home: Path) -> Path:
    return home / "store.duckdb"


def last_run_path(home: Path) -> Path:
    """What a district's last successful run read (pipelines/districts.py). Any run into ``home`` removes it
    first, so a store rebuilt some other way is never taken for unchanged."""
    return home / "last_run.json"
