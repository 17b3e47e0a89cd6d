"""Department reports: HTML + XLSX per report family, reproducible for a past as-of date.

Public API:
    render_report(conn, name, *, out_dir, as_of, home, dept=None, scope=None, user="onceonly") -> list[Path]
        [<stem>.html, <stem>.xlsx, then <stem>-<key>.csv per person list]. Reports print counts; a person
        list longer than an exception list (80+, 65+, 0-6, school cohort, evacuation list...) is a CSV beside it.
    report_files(conn, name, *, out_dir, as_of, scope: Scope, shown: Masking) -> list[dict]   (no handout record)
    LISTS: report -> {list key: title}, the person lists each report writes (known before rendering).
    render_all(conn, *, out_dir, as_of, home, user="onceonly") -> list[Path]     (every report + index.html)
    Handouts are recorded in ``home``'s database (pipelines/publish/audit.py); ``conn`` may be read-only.
    render_population_monthly / render_grid_standards / render_assistance_check / ... (same keywords)
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.publish import audit, masking
from pipelines.publish.grants import Scope, narrow, prepare, resolve_scope
from pipelines.publish.registry import GrantRefused, load_registry
from pipelines.reports import sdc
from pipelines.reports.families import FAMILIES, LISTS
from pipelines.reports.render import write_html, write_index, write_list_csv, write_xlsx

TITLES = {
    "population-monthly": "实有人口统计月报", "population-changes": "人口变动月报", "grid-standards": "网格规范达标情况", "assistance-check": "救助对象核查表",
    "elderly-80plus": "高龄（80岁以上）老人名单", "floating-stats": "流动人口统计表", "school-age-children": "适龄儿童名单",
    "health-key-groups": "0-6岁儿童及65岁以上老人名册", "disability-check": "残疾人状态核查表",
    "emergency-vulnerable": "应急重点人员（按楼栋）", "courtyard-profile": "院落（小区）画像",
}
# the reports of a period's changes, whose period may start elsewhere than on the first of as_of's month
PERIODIC = ("population-changes",)


def _unit(conn, scope_label: str | None) -> str:
    if scope_label and scope_label != "全库":
        return scope_label
    names = [r[0] for r in conn.execute(
        "SELECT DISTINCT coalesce(district_name, '') || coalesce(street_name, '') FROM core.grids ORDER BY 1").fetchall()]
    return "、".join(names) or "（未导入网格表）"


def render_report(conn: duckdb.DuckDBPyConnection, name: str, *, out_dir: Path, as_of: dt.date, home: Path,
                  dept: str | None = None, scope: str | None = None, user: str = "onceonly",
                  period_start: dt.date | None = None) -> list[Path]:
    """Render one report as ``<name>.html`` and ``<name>.xlsx`` in ``out_dir``; audited. A department may only
    render the reports its grant lists, over its own jurisdiction. ``period_start``: the first day of a report's
    period where it is not the month of ``as_of`` (only reports of changes have a period: PERIODIC)."""
    if name not in FAMILIES:
        raise GrantRefused(f"没有名为“{name}”的报表（可用：{'、'.join(FAMILIES)}）。")
    reg = load_registry()
    department = reg.department(dept) if dept is not None else None
    if department is not None and name not in department.reports:
        raise GrantRefused(f"{department.name}（{department.title}）无权获取报表“{TITLES[name]}”。"
                           f"该部门可获取的报表：{'、'.join(TITLES[r] for r in department.reports) or '无'}。")
    if period_start is not None and name not in PERIODIC:
        raise GrantRefused(f"报表“{TITLES[name]}”没有统计期间，不能指定起始日期（可指定的报表：{'、'.join(PERIODIC)}）。")
    prepare(conn, as_of)
    where = resolve_scope(conn, department, scope)
    files = report_files(conn, name, out_dir=out_dir, as_of=as_of, scope=where, shown=reg.report_masking(dept),
                         period_start=period_start)
    audit.record_many(home, [dict(h, kind="report", department=dept, user=user, scope=where.key, as_of=as_of)
                             for h in files])
    return [h["path"] for h in files]


def report_files(conn: duckdb.DuckDBPyConnection, name: str, *, out_dir: Path, as_of: dt.date, scope: Scope,
                 shown: masking.Masking, period_start: dt.date | None = None) -> list[dict]:
    """The report's files for a jurisdiction already resolved and granted, values shown as ``shown`` (the
    department's, registry ``report_masking``), without a handout record (render_report records one; the portal
    renders once per store version and records each time it hands a file out). Returns one dict per file: path,
    name, fmt, row_count, columns, sha256."""
    where = scope
    if where.level == "grid" and LISTS.get(name):
        # the person lists are read through extract views, which place rows in communities, not grids
        raise GrantRefused(f"报表“{TITLES[name]}”附带人员名单，不能按网格生成，请指定社区或街道。")
    prepare(conn, as_of)
    narrow(conn, where)
    reg = load_registry()
    period = {"period_start": period_start} if period_start is not None else {}
    report = FAMILIES[name](conn, as_of, _unit(conn, where.label), shown, **period)
    _mask_tables(report, reg, shown)
    report.hidden = sdc.protect(report)
    # The portal offers list downloads from LISTS before rendering: a builder may not drift from it.
    if [lst.key for lst in report.lists] != list(LISTS.get(name, {})):
        raise RuntimeError(f"报表“{name}”生成的名单 {[lst.key for lst in report.lists]} 与 LISTS 登记的不一致。")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name if where.level is None else f"{name}_{where.code}"
    for s in report.sections:
        s.note = s.note.replace("{stem}", stem)
    paths = [write_html(report, out_dir / f"{stem}.html"), write_xlsx(report, out_dir / f"{stem}.xlsx")]
    rows = sum(len(s.rows) for s in report.sections)
    cols = [c.name for s in report.sections for c in s.columns]
    handouts = [dict(name=name, fmt=p.suffix.lstrip("."), row_count=rows, columns=cols, path=p) for p in paths]
    for lst in report.lists:
        p = write_list_csv(lst, out_dir / f"{stem}-{lst.key}.csv")
        handouts.append(dict(name=f"{name}-{lst.key}", fmt="csv", row_count=lst.rows,
                             columns=lst.table.column_names, path=p))
        paths.append(p)
    return [dict(h, sha256=audit.sha256_file(h["path"])) for h in handouts]


def _mask_tables(report, reg, shown) -> None:
    """The text cells of a report's tables as the department's masking shows their class (community and
    compound names are 'other': only scrubbed of any ID or phone inside them)."""
    for s in report.sections:
        text = {i: reg.column_class(c.name) for i, c in enumerate(s.columns) if c.kind == "text"}
        s.rows = [tuple(masking.mask_value(v, text[i], shown) if i in text else v for i, v in enumerate(row))
                  for row in s.rows]


def render_all(conn: duckdb.DuckDBPyConnection, *, out_dir: Path, as_of: dt.date, home: Path,
               user: str = "onceonly") -> list[Path]:
    """Every report for the whole store (the street office's set), then ``index.html`` with lineage."""
    out_dir = Path(out_dir)
    reg = load_registry()
    paths: list[Path] = []
    entries = []
    for name in FAMILIES:
        html, xlsx, *lists = render_report(conn, name, out_dir=out_dir, as_of=as_of, home=home, user=user)
        paths += [html, xlsx, *lists]
        users = "、".join(d.name for d in reg.departments.values() if name in d.reports)
        entries.append({"title": TITLES[name], "departments": users, "html": html.name, "xlsx": xlsx.name,
                        "lists": [p.name for p in lists], "sha256": audit.sha256_file(xlsx)})
    batches = [dict(zip(("template", "file_name", "loaded_on", "rows_read", "rows_loaded", "rows_rejected", "batch_id"), r))
               for r in conn.execute("""
                   SELECT template, file_name, loaded_on, rows_read, rows_loaded, rows_rejected, batch_id
                   FROM raw.batches WHERE status = 'loaded' ORDER BY template, file_name, batch_id""").fetchall()]
    paths.append(write_index(out_dir / "index.html", as_of=as_of, unit=_unit(conn, None), entries=entries,
                             batches=batches))
    return paths


def _one(name: str):
    def render(conn, *, out_dir: Path, as_of: dt.date, home: Path, dept: str | None = None, scope: str | None = None,
               user: str = "onceonly") -> list[Path]:
        return render_report(conn, name, out_dir=out_dir, as_of=as_of, home=home, dept=dept, scope=scope, user=user)
    render.__name__ = "render_" + name.replace("-", "_")
    render.__doc__ = f"{TITLES[name]}：HTML + XLSX。"
    return render


render_population_monthly = _one("population-monthly")
render_population_changes = _one("population-changes")
render_grid_standards = _one("grid-standards")
render_assistance_check = _one("assistance-check")
render_elderly_80plus = _one("elderly-80plus")
render_floating_stats = _one("floating-stats")
render_school_age_children = _one("school-age-children")
render_health_key_groups = _one("health-key-groups")
render_disability_check = _one("disability-check")
render_emergency_vulnerable = _one("emergency-vulnerable")
render_courtyard_profile = _one("courtyard-profile")
