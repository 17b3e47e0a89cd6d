"""The store's tables as the product creates them, empty: raw from sql/raw and the catalog, staging from
its template, core from its SQL files and the identity step, each run on nothing. Hand-written test
worlds insert into these, so a column the product renames or retypes fails their tests instead of
being copied on in a test's own CREATE TABLE."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from pipelines.store import Store


def build_schema(path: Path) -> Path:
    """An empty store at ``path`` with every raw, staging and core table."""
    from pipelines.address import match_addresses
    from pipelines.records import build_person_records
    from pipelines.identity.link import link_persons
    from pipelines.ingest import ensure_raw_tables
    from pipelines.staging import build_staging

    with Store(path).connect() as conn:
        ensure_raw_tables(conn)
        build_staging(conn)
        Store.run_sql(conn, "core/grids.sql")
        Store.run_sql(conn, "core/houses.sql")
        match_addresses(conn)
        build_person_records(conn)
        link_persons(conn, run_date=dt.date(2026, 10, 31))
    return path


def copy_of(template: Path, home: Path) -> Store:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, home / "store.duckdb")
    return Store(home / "store.duckdb")
