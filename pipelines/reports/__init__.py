"""Department reports: HTML + XLSX per report family, reproducible for a past as-of date.

Public API:
    render_report(conn, name, *, out_dir, as_of, home, dept=None, scope=None, user="onceonly") -> list[Path]
        [<stem>.html, <stem>.xlsx, then <stem>-<key>.csv per person list]. Reports print counts; a person
        list longer than an exception list (80+, 65+, 0-6, school cohort, evacuation list...) is a CSV beside it.
    report_files(conn, name, *, out_dir, as_of, scope: Scope, shown: Masking) -> list[dict]   (no handout record)
    FAMILIES: key -> registry entry (reports/families.yaml); TITLES: key -> title; LISTS: report -> {list key:
    title}, the person lists each report writes (known before rendering). All three come from the registry.
    render_all(conn, *, out_dir, as_of, home, user="onceonly") -> list[Path]     (every report + index.html)
    Handouts are recorded in ``home``'s database (pipelines/publish/audit.py); ``conn`` may be read-only.
    ``families``: another registry (load_families(path, sql_dir)) instead of reports/families.yaml.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.publish import audit, masking
from pipelines.publish.grants import Scope, narrow, prepare, resolve_scope
from pipelines.publish.registry import GrantRefused, load_registry
from pipelines.reports import kept as kept_files
from pipelines.reports import sdc
from pipelines.reports.families import build
from pipelines.reports.registry import Family, load_families
from pipelines.reports.render import write_html, write_index, write_list_csv, write_xlsx

FAMILIES = load_families()
TITLES = {key: f.title for key, f in FAMILIES.items()}
LISTS = {key: {k: x.title for k, x in f.lists.items()} for key, f in FAMILIES.items() if f.lists}


def _unit(conn, scope_label: str | None) -> str:
    if scope_label and scope_label != "全库":
        return scope_label
    names = [r[0] for r in conn.execute(
        "SELECT DISTINCT coalesce(district_name, '') || coalesce(street_name, '') FROM marts.grids ORDER BY 1").fetchall()]
    return "、".join(names) or "（未导入网格表）"


def render_report(conn: duckdb.DuckDBPyConnection, name: str, *, out_dir: Path, as_of: dt.date, home: Path,
                  dept: str | None = None, scope: str | None = None, user: str = "onceonly",
                  families: dict[str, Family] | None = None, period_start: dt.date | None = None,
                  run_report: str | None = None, kept: kept_files.Kept | None = None) -> list[Path]:
    """Render one report as ``<name>.html`` and ``<name>.xlsx`` in ``out_dir``; audited. A department may only
    render the reports its grant lists, over its own jurisdiction. ``period_start``: the first day of the period
    where it is not the 1st of as_of's month (only families with ``period_from``)."""
    families = FAMILIES if families is None else families
    if name not in families:
        raise GrantRefused(f"没有名为“{name}”的报表（可用：{'、'.join(families)}）。")
    reg = load_registry()
    department = reg.department(dept) if dept is not None else None
    if department is not None and name not in department.reports:
        raise GrantRefused(f"{department.name}（{department.title}）无权获取报表“{families[name].title}”。"
                           f"该部门可获取的报表：{'、'.join(TITLES[r] for r in department.reports) or '无'}。")
    if period_start is not None and not families[name].period_from:
        raise GrantRefused(f"报表“{families[name].title}”没有可选的统计期间，不能指定起始日期"
                           f"（可指定的报表：{'、'.join(k for k, f in families.items() if f.period_from)}）。")
    prepare(conn, as_of)
    where = resolve_scope(conn, department, scope)
    files = report_files(conn, name, out_dir=out_dir, as_of=as_of, scope=where, shown=reg.report_masking(dept),
                         families=families, period_start=period_start, run_report=run_report, kept=kept)
    audit.record_many(home, [dict(h, kind="report", department=dept, user=user, scope=where.key, as_of=as_of)
                             for h in files])
    return [h["path"] for h in files]


def report_files(conn: duckdb.DuckDBPyConnection, name: str, *, out_dir: Path, as_of: dt.date, scope: Scope,
                 shown: masking.Masking, families: dict[str, Family] | None = None,
                 period_start: dt.date | None = None, run_report: str | None = None,
                 kept: kept_files.Kept | None = None) -> list[dict]:
    """The report's files for a jurisdiction already resolved and granted, values shown as ``shown`` (the
    department's, registry ``report_masking``), without a handout record (render_report records one; the portal
    renders once per store version and records each time it hands a file out). Returns one dict per file: path,
    name, fmt, row_count, columns, sha256. ``run_report``: the run report's file beside it, which the quality
    note then links (HTML) or names (XLSX). ``kept``: where the last build's files of the same set are, kept when
    what they print is unchanged (pipelines/reports/kept.py)."""
    where = scope
    family = (FAMILIES if families is None else families)[name]
    if where.level == "grid" and family.lists:
        # the person lists are read through extract views, which place rows in communities, not grids
        raise GrantRefused(f"报表“{family.title}”附带人员名单，不能按网格生成，请指定社区或街道。")
    prepare(conn, as_of)
    narrow(conn, where)
    reg = load_registry()
    report = build(conn, family, as_of, _unit(conn, where.label), shown, period_start)
    report.run_report = run_report
    _mask_tables(report, reg, shown)
    # The portal offers list downloads from the registry before rendering: a builder may not drift from it.
    if [lst.key for lst in report.lists] != list(family.lists):
        raise RuntimeError(f"报表“{name}”生成的名单 {[lst.key for lst in report.lists]} 与 families.yaml 登记的不一致。")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name if where.level is None else f"{name}_{where.code}"
    for s in report.sections:
        s.note = s.note.replace("{stem}", stem)
    made_from = kept_files.digest(report, stem, shown) if kept is not None else None
    reused = kept_files.reuse(kept, made_from, out_dir) if kept is not None else None
    if reused is None:
        report.hidden = sdc.protect(report)
        write_html(report, out_dir / f"{stem}.html")
        write_xlsx(report, out_dir / f"{stem}.xlsx")
    rows = sum(len(s.rows) for s in report.sections)
    cols = [c.name for s in report.sections for c in s.columns]
    handouts = [dict(name=name, fmt=fmt, row_count=rows, columns=cols, path=out_dir / f"{stem}.{fmt}")
                for fmt in ("html", "xlsx")]
    for lst in report.lists:
        p = out_dir / f"{stem}-{lst.key}.csv"
        if reused is None:
            write_list_csv(lst, p)
        handouts.append(dict(name=f"{name}-{lst.key}", fmt="csv", row_count=lst.rows,
                             columns=lst.table.column_names, path=p))
    made = [dict(h, sha256=reused[h["path"].name] if reused else audit.sha256_file(h["path"])) for h in handouts]
    if kept is not None and reused is None:
        kept_files.record(kept, made_from, {h["path"].name: h["sha256"] for h in made})
    return made


def _mask_tables(report, reg, shown) -> None:
    """The text cells of a report's tables as the department's masking shows their class (community and
    compound names are 'other': only scrubbed of any ID or phone inside them)."""
    for s in report.sections:
        text = {i: reg.column_class(c.name) for i, c in enumerate(s.columns) if c.kind == "text"}
        s.rows = [tuple(masking.mask_value(v, text[i], shown) if i in text else v for i, v in enumerate(row))
                  for row in s.rows]


def render_all(conn: duckdb.DuckDBPyConnection, *, out_dir: Path, as_of: dt.date, home: Path,
               user: str = "onceonly", previous: Path | None = None) -> list[Path]:
    """Every report for the whole store (the street office's set), the run report (when the store holds this run's
    tables: pipelines/reports/run_report.py) which every report's note links, then ``index.html`` with lineage.
    On a writable connection (a build) a report whose content is unchanged keeps the files of the last render
    (pipelines/reports/kept.py) from ``previous`` (the last build's folder; None: ``out_dir`` itself)."""
    from pipelines.marts import period_start
    from pipelines.reports.run_report import write_run_report

    out_dir = Path(out_dir)
    reg = load_registry()
    read_only = period_start.read_only(conn)
    period_start.keep_for(conn, as_of)
    paths: list[Path] = write_run_report(conn, out_dir)
    run = None
    if paths:
        rejected = conn.execute("SELECT count(*) FROM marts.run_files WHERE kind = 'file' AND outcome = 'rejected'"
                                ).fetchall()[0][0]
        run = {"html": paths[0].name, "xlsx": paths[1].name, "rejected": rejected}
    entries = []
    for name in FAMILIES:
        kept = None if read_only else kept_files.Kept(conn, out_dir if previous is None else previous, f"全库 {name}")
        html, xlsx, *lists = render_report(conn, name, out_dir=out_dir, as_of=as_of, home=home, user=user,
                                           run_report=run["html"] if run else None, kept=kept)
        paths += [html, xlsx, *lists]
        users = "、".join(d.name for d in reg.departments.values() if name in d.reports)
        entries.append({"title": TITLES[name], "departments": users, "html": html.name, "xlsx": xlsx.name,
                        "lists": [p.name for p in lists], "sha256": audit.sha256_file(xlsx)})
    batches = [dict(zip(("template", "file_name", "loaded_on", "rows_read", "rows_loaded", "rows_rejected", "batch_id"), r))
               for r in conn.execute("""
                   SELECT template, file_name, loaded_on, rows_read, rows_loaded, rows_rejected, batch_id
                   FROM raw.batches WHERE status = 'loaded' ORDER BY template, file_name, batch_id""").fetchall()]
    paths.append(write_index(out_dir / "index.html", as_of=as_of, unit=_unit(conn, None), entries=entries,
                             batches=batches, run_report=run))
    return paths
