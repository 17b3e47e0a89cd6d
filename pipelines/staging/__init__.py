"""raw.* -> staging.* : one typed, normalised table per template (docs/architecture.md, "staging").

Each table is filled as its batches are loaded (pipelines/ingest/typed.py) or, when a steward's fix
stands or it is not current, rebuilt whole from raw by ``sql/staging/_template.sql`` (a jinja2 template over the
catalog, so value lists and field types come from ``sources/*.yaml``).
"""
from __future__ import annotations

import duckdb

from pipelines.ingest import ensure_raw_tables
from pipelines.ingest.sqlgen import STAGING_SQL, render
from pipelines.ingest.typed import mark_typed, typed_complete, typed_version
from pipelines.quality import apply_corrections_sql
from pipelines.sources import TEMPLATE_ORDER, Catalog, load_catalog


def staging_sql(template: str, catalog: Catalog | None = None, *, overlay: bool = True) -> str:
    """The rendered SQL that rebuilds staging.<template> (also handy for reading what it does).
    ``overlay=False`` reads raw directly: only right when no correction stands."""
    catalog = catalog or load_catalog()
    return render(STAGING_SQL, catalog, t=catalog[template], overlay=overlay, incoming=False)


def corrections_stand(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether any steward fix is in force (after apply_corrections_sql created the views)."""
    return bool(conn.execute(
        "SELECT count(*) FROM quality.active_corrections WHERE action = 'fix'").fetchall()[0][0])


def build_staging(
    conn: duckdb.DuckDBPyConnection, templates: tuple[str, ...] = TEMPLATE_ORDER, catalog: Catalog | None = None,
) -> dict[str, int]:
    """Rebuild staging.<template> for ``templates`` (default: all nine); returns rows per table."""
    catalog = catalog or load_catalog()
    ensure_raw_tables(conn, catalog)
    apply_corrections_sql(conn, catalog)
    overlay = corrections_stand(conn)
    version = typed_version(catalog)
    counts: dict[str, int] = {}
    for name in templates:
        if overlay or not typed_complete(conn, name, version):
            conn.execute(staging_sql(name, catalog, overlay=overlay))
            mark_typed(conn, name, None if overlay else version)
        # else: the rows were typed, checked and appended when their batches were loaded
        counts[name] = conn.execute(f"SELECT count(*) FROM staging.{name}").fetchall()[0][0]
    return counts
