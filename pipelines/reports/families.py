"""Building a report family's :class:`Report` from the prepared as-of tables (rp_*): :func:`build` makes the lists
and sections its registry entry (reports/families.yaml, pipelines/reports/registry.py) names, or calls the family's
builder — the functions below — for what the entry cannot say.

Builders only read; scoping is applied before they run, and each gets the masking of the department it renders
for (person lists are masked as they are selected; pipelines.reports.render_report masks the tables' text and
applies disclosure control).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache

import duckdb
import yaml

from pipelines.paths import REPORTS_DIR
from pipelines.publish import masking
from pipelines.publish.masking import Masking
from pipelines.publish.registry import load_registry
from pipelines.reports.model import Col, ListFile, Report, Section
from pipelines.reports.registry import Family, load_families
from pipelines.store import Store, set_variables, table_exists


@lru_cache(maxsize=None)
def standards() -> dict:
    return yaml.safe_load((REPORTS_DIR / "standards.yaml").read_text(encoding="utf-8"))


def _rows(conn, sql: str, params=None) -> list[tuple]:
    return conn.execute(sql, params or []).fetchall()


def quality_notes(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The data-quality lines every report of this as-of and jurisdiction carries (computed once, kept in
    rp_quality beside rp_meta, which prepare() and narrow() rewrite when either changes)."""
    meta = _rows(conn, "SELECT as_of, scope_level, scope_code FROM rp_meta")[0]
    try:
        hit = _rows(conn, "SELECT notes FROM rp_quality WHERE as_of = ? AND scope_level IS NOT DISTINCT FROM ? "
                          "AND scope_code IS NOT DISTINCT FROM ?", list(meta))
        if hit:
            return list(hit[0][0])
    except duckdb.CatalogException:
        pass
    n_unverified, n_ungridded = _rows(conn, """
        SELECT count(*) FILTER (WHERE status = '待核实'),
               count(*) FILTER (WHERE status IN ('在住', '待核实') AND microgrid_code IS NULL) FROM rp_persons""")[0]
    n_unlinked = _rows(conn, "SELECT count(*) FROM marts.person_sources WHERE 人员主键 IS NULL")[0][0]
    rejected = _rows(conn, "SELECT count(*), coalesce(sum(rows_rejected), 0) FROM raw.batches WHERE status = 'rejected'")[0]
    rows_rej = _rows(conn, "SELECT coalesce(sum(rows_rejected), 0) FROM raw.batches WHERE status = 'loaded'")[0][0]
    notes = [
        f"待核实 {n_unverified} 人：在册但在时效期内没有在住证据，未计入实有人口，请网格员走访核实。",
        f"未定位到网格 {n_ungridded} 人：地址未能匹配到房屋，已交数据专员处理。",
        f"未能关联到人员的来源记录 {n_unlinked} 条；整份拒收的文件 {rejected[0]} 个、拒收的数据行 {rows_rej} 行（见运行报告）。",
        "人员状态按统计截止日期判定，截止日期之后的材料不计入；同一日期重新生成结果完全一致。",
    ]
    conn.execute("CREATE OR REPLACE TEMP TABLE rp_quality AS SELECT ?::DATE AS as_of, ?::VARCHAR AS scope_level, "
                 "?::VARCHAR AS scope_code, ?::VARCHAR[] AS notes", [*meta, notes])
    return notes


# Counts that are not of persons: published as they are (disclosure control is for persons).
NOT_PERSONS = {"户数": "number", "楼栋数": "number", "房屋数": "number", "有人居住户数": "number"}


def _section(conn, title: str, table: str, kinds: dict[str, str], order: str, *, totals=True, note="",
             hidden=("_c", "_g"), sums: dict[str, tuple[str, ...]] | None = None, signed=(), balances=(),
             kept=()) -> Section:
    names = [d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]
    cols = [c for c in names if c not in hidden]
    key = "_g" if "_g" in names else "_c" if "_c" in names else "NULL"
    select = ", ".join([f'"{c}"' for c in cols] + [key])
    rows = _rows(conn, f"SELECT {select} FROM {table} ORDER BY {order}")
    kinds = {**NOT_PERSONS, **kinds}
    return Section(title, [Col(c, kinds.get(c, "count")) for c in cols], [r[:-1] for r in rows],
                   totals=totals, note=note, sums=sums or {}, signed=tuple(signed), keys=[r[-1] for r in rows],
                   balances=list(balances), kept=tuple(kept))


def _text_kinds(*names: str) -> dict[str, str]:
    return {n: "text" for n in names}


def build(conn, family: Family, as_of: dt.date, unit: str, m: Masking, period_start: dt.date | None = None) -> Report:
    """The family's report: its builder's, else its lists (read first: its SQL may read their extract views),
    its SQL run with its dates, and its sections. ``period_start`` only for a family with ``period_from``."""
    from pipelines.publish.grants import NotAvailable

    if period_start is not None and period_start > as_of:
        raise NotAvailable(f"统计期间的起始日期 {period_start.isoformat()} 晚于统计截止日期 {as_of.isoformat()}。")
    if family.builder:
        chosen = {"period_start": period_start} if period_start is not None else {}
        return globals()[family.builder](conn, family, as_of, unit, m, **chosen)
    lists = [_list_file(conn, family, key, m) for key in family.lists]
    _jurisdiction(conn)
    run_sql(conn, family, as_of, period_start)
    return Report(family.key, family.title, unit, as_of, [_spec_section(conn, s, lists) for s in family.sections],
                  period_start=family.period_start(as_of, period_start), quality=quality_notes(conn), lists=lists,
                  links=list(family.links))


def run_sql(conn, family: Family, as_of: dt.date, period_start: dt.date | None = None) -> None:
    """The family's SQL file, with as_of (and period_start, for a family that covers a period)."""
    set_variables(conn, family.variables(as_of, period_start))
    conn.execute(family.sql.read_text(encoding="utf-8"))


def _spec_section(conn, spec, lists: list[ListFile]) -> Section:
    """A section as its registry entry describes it; its note names the list files beside the report."""
    cited = [f for f in lists if spec.lists is None or f.key in spec.lists]
    files = "；".join(f"{f.title}见文件“{{stem}}-{f.key}.csv”（共 {f.rows} 条）" for f in cited)
    return _section(conn, spec.title, spec.table, {**_text_kinds(*spec.text), **{c: "money" for c in spec.money}},
                    spec.order, note="；".join(x for x in (spec.note, files) if x) + ("。" if files else ""),
                    sums=dict(spec.sums) or None, signed=spec.signed)


def population_changes(conn, family: Family, as_of: dt.date, unit: str, m: Masking,
                       period_start: dt.date | None = None) -> Report:
    """人口变动月报: 实有人口 at the day before the period and at D, per grid, and every change between them with the
    evidence that made it (sql/reports/population_changes.sql). The period is the month of D up to D (a report as
    of 2026-10-31 reports October against 2026-09-30), or ``period_start``..D."""
    from pipelines.marts.period_start import opening_status, transitions

    start = family.period_start(as_of, period_start)
    opening = start - dt.timedelta(days=1)
    kept_start = opening_status(conn, "rc_start", opening)   # 期初: every person's status on the period's eve
    transitions(conn, "rc_transitions", opening, as_of, kept_start)   # who differs between 期初 and 期末
    _jurisdiction(conn)
    run_sql(conn, family, as_of, start)
    reg = load_registry()
    columns = [d[0] for d in conn.execute("SELECT * FROM r_chg_list LIMIT 0").description if not d[0].startswith("_")]
    shown = ", ".join(f'{masking.column_sql(chr(34) + c + chr(34), reg.column_class(c), m)} AS "{c}"' for c in columns)
    lists = []
    for key, spec in family.lists.items():
        table = conn.sql(f"SELECT {shown} FROM r_chg_list WHERE _list = '{key}' "
                         "ORDER BY _community_code NULLS LAST, _grid_code NULLS LAST, 变动类型, 人员主键").to_arrow_table()
        lists.append(ListFile(key, spec.title, masking.scrub_arrow(table, {c: reg.column_class(c) for c in columns}, m)))
    files = "；".join(f"{f.title}见文件“{{stem}}-{f.key}.csv”（共 {f.rows} 条）" for f in lists)
    text = _text_kinds("社区", "网格", "核对", "期初状态", "期末状态")
    return Report(
        family.key, family.title, unit, as_of, [
            _section(conn, "实有人口增减（按社区网格）", "r_chg_grid", text, "_c NULLS LAST, _g NULLS LAST",
                     sums={"本期增加": ("迁入及新登记", "出生", "从其他网格迁入", "待核实转在住", "已离开转在住"),
                           "本期减少": ("迁出或离开", "死亡", "在住转待核实", "迁往其他网格")},
                     balances=[(("期初实有人口", "本期增加"), ("期末实有人口", "本期减少"))],
                     # the stocks are 实有人口统计月报's cells of both months: withholding them here would hide nothing
                     kept=("期初实有人口", "期末实有人口"),
                     note=f"期初实有人口为 {opening.isoformat()}、期末实有人口为 {as_of.isoformat()} 在住的人数，"
                          "与同日的实有人口统计月报、网格人口统计一致。期末实有人口 = 期初实有人口 + 本期增加 − 本期减少，"
                          "“核对”为按人逐一统计的增减与分别统计的两个时点人数的核对结果。期初按库中现有全部材料重新判定："
                          "本期才导入、但日期在期初之前的材料（补录）计入期初，此时期初可能与上期报出的期末实有人口不同。"
                          "增加按期初情况分类：期初无记录的为迁入及新登记（本期出生的为出生），期初在其他网格在住、"
                          "待核实或已离开的分别为从其他网格迁入、待核实转在住（如经走访核实）、已离开转在住；"
                          "减少按期末情况分类。期内迁入又离开的人员两个时点都不在住，不计入增减，见状态变更。"),
            _section(conn, "人员状态变更（期初→期末）", "r_chg_status", text,
                     "_c NULLS LAST, 社区, 期初状态 <> '（期初无记录）', category_rank('状态', 期初状态), 期初状态, "
                     "category_rank('状态', 期末状态), 期末状态",
                     note="期初、期末人员状态不同的人员，含不影响实有人口的变更（如待核实转为已离开、死亡）；"
                          "其中计入增减：在本表第一部分计为增加或减少的人数。" + files + "。"
                          "名单中的“依据”“来源”“来源记录”“证据日期”为判定期末状态的那条记录。"),
        ], period_start=start, quality=quality_notes(conn), lists=lists)



def grid_standards(conn, family: Family, as_of: dt.date, unit: str, m: Masking) -> Report:
    s = standards()
    set_variables(conn, {"grid_min": s["grid_households"]["min"], "grid_max": s["grid_households"]["max"],
                         "micro_min": s["microgrid_households"]["min"], "micro_max": s["microgrid_households"]["max"],
                         "pop_max": s["grid_population_max"]})
    run_sql(conn, family, as_of)
    text = _text_kinds("社区", "网格编码", "网格名称", "网格类型", "标准户数", "结论", "微网格编码", "微网格名称",
                       "登记超1500", "实有超1500", "处理建议")
    report = Report(family.key, family.title, unit, as_of, [
        _section(conn, "网格户数", "r_std_grid", text, "_c, 网格编码",
                 note=f"一般网格标准 {s['grid_households']['min']}–{s['grid_households']['max']} 户；专属网格不适用。"),
        _section(conn, "微网格户数", "r_std_micro", text, "_c, _g, 微网格编码",
                 note=f"微网格标准 {s['microgrid_households']['min']}–{s['microgrid_households']['max']} 户。"),
        _section(conn, "网格人口（登记与实有对照）", "r_std_pop", text, "_c, 网格编码",
                 note=f"实有人口超过 {s['grid_population_max']} 人的网格应考虑拆分。登记人口含多年未核实、可能早已搬离的人员，"
                      "登记超标而实有未超的网格，请先走访核实。"),
        *task_progress(conn, as_of),
    ], quality=quality_notes(conn))
    _same_cells_as_population_monthly(conn, report, as_of, unit, m)
    return report


def task_progress(conn, as_of: dt.date) -> list[Section]:
    """走访核查进度: the follow-up tasks per grid and 登记人口 − 实有人口 against the previous build, with a chart
    (none on a store without tasks yet)."""
    from pipelines.marts.tasks import overdue_days
    from pipelines.reports.chart import NO_FONT_NOTE, gap_chart

    if not table_exists(conn, "marts.tasks"):
        return []
    if table_exists(conn, "marts.grid_series"):
        conn.execute("CREATE OR REPLACE TEMP TABLE r_task_history AS SELECT as_of, grid_code, registered, verified "
                     "FROM marts.grid_series WHERE as_of < ?", [as_of])
    else:
        conn.execute("CREATE OR REPLACE TEMP TABLE r_task_history "
                     "(as_of DATE, grid_code VARCHAR, registered BIGINT, verified BIGINT)")
    prev = _rows(conn, "SELECT max(as_of) FROM r_task_history")[0][0]
    Store.run_sql(conn, "reports/task_progress.sql", as_of=as_of, prev_as_of=prev)
    days = overdue_days()
    period = f"{prev.isoformat()} 之后至 {as_of.isoformat()}" if prev else f"截至 {as_of.isoformat()}（首次运行）"
    section = _section(
        conn, "走访核查进度", "r_task_progress",
        {**_text_kinds("社区", "网格编码", "网格名称", "网格员"),
         # tasks are work items, published as they are; the days a measure; the gap is 登记人口 − 实有人口
         **{c: "number" for c in ("待办走访核查", "其中逾期", "本期办结", "累计办结", "待公安核查注销")},
         "办结用时中位数（天）": "measure"}, "_c, 网格编码",
        signed=("登记与实有差额", "上期差额", "差额变化"),
        note=f"待核实且有住址的人员每人一项走访核查任务，自首次发现它的那次运行起算，由在该房屋的走访（在住、已搬离、查无此人）、"
             f"公安注销或死亡登记办结；开始满 {days['verify']} 天未办结为逾期。本期为 {period}。"
             "差额 = 登记人口 − 实有人口：走访发现仍在住的，差额随即减少；发现已离开的转入“待公安核查注销”，公安注销后差额减少。"
             "任务明细见“走访核查任务”与“核查任务台账”数据提取。")
    series = [(d, int(g or 0)) for d, g in _rows(conn, "SELECT as_of, gap FROM r_task_series ORDER BY as_of")]
    grids = [(name, prev_gap, gap) for name, prev_gap, gap in _rows(
        conn, "SELECT 网格名称, 上期差额, 登记与实有差额 FROM r_task_progress ORDER BY _c, 网格编码")]
    section.chart = gap_chart(f"登记人口与实有人口差额（统计截止日期 {as_of.isoformat()}）", series, grids)
    if section.chart is None:
        section.note += NO_FONT_NOTE
    return [section]


def _same_cells_as_population_monthly(conn, report: Report, as_of: dt.date, unit: str, m: Masking) -> None:
    """The per-grid 登记人口/实有人口/待核实 of 网格人口 (and 走访核查进度's gap) are the very cells of the
    实有人口统计月报, over the same rows: withhold exactly what that report withholds, or one report would give
    away what the other hides."""
    from pipelines.reports import sdc

    monthly = build(conn, load_families()["population-monthly"], as_of, unit, m)
    withheld = sdc.protect(monthly)
    grid = monthly.sections[0]
    at = {(k, grid.columns[ci].name): (si, ri, ci) for si, ri, ci in withheld if si == 0
          for k in [grid.keys[ri] if ri < len(grid.rows) else "合计"]}
    for si, sec in enumerate(report.sections):
        if not sec.title.startswith(("网格人口", "走访核查进度")):
            continue
        names = [c.name for c in sec.columns]
        for ri in range(len(sec.rows) + 1):
            k = sec.keys[ri] if ri < len(sec.rows) else "合计"
            for ci, name in enumerate(names):
                if (k, name) in at:
                    report.fixed.add((si, ri, ci))
                    if name == "登记与实有差额":
                        # the previous gap and the change would give the withheld gap away
                        report.fixed.update((si, ri, names.index(n)) for n in ("上期差额", "差额变化") if n in names)


def _list_query(conn, extract: str, where: str, columns: list[str] | None, m: Masking, source: str | None = None):
    """The SELECT of a person list read through an extract view, masked as the department's reports are,
    limited to the report's jurisdiction, in the extract's total order."""
    reg = load_registry()
    spec = reg.extract(extract)
    if source is None:
        Store.run_sql(conn, f"reports/{spec.sql}")
    cols = [c for c in spec.columns if columns is None or c.name in columns]
    select = ", ".join(f'{masking.column_sql(chr(34) + c.name + chr(34), c.kind, m)} AS "{c.name}"' for c in cols)
    order = ", ".join(f'"{c}"' for c in spec.order_by) + ", " + ", ".join(f'"{c.name}"' for c in spec.columns)
    scope = conn.execute("SELECT scope_level, scope_code FROM rp_meta").fetchall()[0]
    set_variables(conn, {"scope_level": scope[0], "scope_code": scope[1]})
    params: list = []
    if scope[0]:
        where = f"({where}) AND _{scope[0]}_code = ?"
        params.append(scope[1])
    sql = f"SELECT {select} FROM {source or spec.view} WHERE {where} ORDER BY {order} NULLS FIRST"
    return cols, sql, params


def _list_file(conn, family: Family, key: str, m: Masking, *, source: str | None = None) -> ListFile:
    """A person list too long to print: written beside the report as CSV (see render_report)."""
    spec = family.lists[key]
    cols, sql, params = _list_query(conn, spec.extract, spec.where, list(spec.columns) if spec.columns else None, m,
                                    source)
    table = masking.scrub_arrow(conn.sql(sql, params=params).to_arrow_table(), {c.name: c.kind for c in cols}, m)
    return ListFile(key, spec.title, table)


def _jurisdiction(conn) -> None:
    """Set scope_level/scope_code for summaries over views that also hold rows outside the jurisdiction."""
    scope = conn.execute("SELECT scope_level, scope_code FROM rp_meta").fetchall()[0]
    set_variables(conn, {"scope_level": scope[0], "scope_code": scope[1]})


def floating_stats(conn, family: Family, as_of: dt.date, unit: str, m: Masking) -> Report:
    """The breakdowns by one category each are tables of code lists (categories.sql), in their rank order."""
    Store.run_sql(conn, "reports/extract_floating_population.sql")
    _jurisdiction(conn)
    run_sql(conn, family, as_of)

    def by(dim: str, title: str) -> Section:
        rows = _rows(conn, f"""SELECT coalesce("{dim}", '不详') AS k, count(*) FROM r_flo GROUP BY k
                               ORDER BY category_rank('{dim}', k), k""")
        return Section(title, [Col(dim, "text"), Col("人数", "count")], rows)

    sex_age = _rows(conn, """
        SELECT 年龄段, count(*) FILTER (WHERE 性别 = '男'), count(*) FILTER (WHERE 性别 = '女'),
               count(*) FILTER (WHERE 性别 IS NULL OR 性别 NOT IN ('男', '女')), count(*)
        FROM r_flo GROUP BY 年龄段 ORDER BY category_rank('年龄段', 年龄段), 年龄段""")
    lists = [_list_file(conn, family, key, m, source="r_flo") for key in family.lists]
    return Report(family.key, family.title, unit, as_of, [
        by("户籍省份", "按户籍省份"),
        Section("按性别、年龄段", [Col("年龄段"), Col("男", "count"), Col("女", "count"), Col("性别不详", "count"),
                                 Col("小计", "count")], sex_age, sums={"小计": ("男", "女", "性别不详")}),
        by("居住时长", "按居住时长"),
        by("是否租住", "按是否租住"),
        *(_spec_section(conn, spec, lists) for spec in family.sections),
    ], quality=quality_notes(conn), lists=lists)


def school_age_children(conn, family: Family, as_of: dt.date, unit: str, m: Masking) -> Report:
    """The title and the note name the school year D falls in."""
    lists = [_list_file(conn, family, key, m) for key in family.lists]
    run_sql(conn, family, as_of)
    year = _rows(conn, "SELECT school_enrolment_year(?::DATE)", [as_of])[0][0]
    note = (f"统计截止日期所在学年为 {year - 1}—{year} 学年，下一次入学为 {year} 年9月："
            f"{year}年8月31日前（含）年满6周岁、{year - 1}年8月31日时未满6周岁的儿童"
            f"（{year - 7}年9月1日至{year - 6}年8月31日出生）")
    return Report(family.key, f"{year}年秋季入学{family.title}", unit, as_of,
                  [_spec_section(conn, replace(spec, note=note), lists) for spec in family.sections],
                  quality=quality_notes(conn), lists=lists)


def courtyard_profile(conn, family: Family, as_of: dt.date, unit: str, m: Masking) -> Report:
    """The contacts list is not a view of an extract: a phone its owner consented to publish is printed whole."""
    run_sql(conn, family, as_of)
    reg = load_registry()
    shown = {c: masking.column_sql(f'"{c}"', reg.column_class(c), m) for c in ("社区", "小区", "楼栋", "姓名", "身份")}
    # a number is printed whole only with its owner's consent (公开联系方式), else as the grant says
    phone = masking.column_sql('"联系电话"', "phone", m)
    table = conn.sql(
        f"SELECT {', '.join(f'{sql} AS {c}' for c, sql in shown.items())}, "
        f"CASE WHEN _consent THEN 联系电话 ELSE {phone} END AS 联系电话 FROM r_yard_contacts "
        "ORDER BY _c, r_yard_contacts.小区, r_yard_contacts.楼栋 NULLS LAST, r_yard_contacts.姓名, "
        "r_yard_contacts.身份, r_yard_contacts.联系电话").to_arrow_table()
    contacts = ListFile("contacts", family.lists["contacts"].title,
                        masking.scrub_arrow(table, {c: reg.column_class(c) for c in table.column_names}, m))
    consented = conn.execute("SELECT count(*) FILTER (WHERE _consent AND 联系电话 IS NOT NULL) "
                             "FROM r_yard_contacts").fetchall()[0][0]
    return Report(family.key, family.title, unit, as_of, [
        _section(conn, "小区概况", "r_yard", _text_kinds("社区", "小区"), "_c, 小区",
                 note=f"楼栋长与居民骨干的联系方式见文件“{{stem}}-contacts.csv”（共 {contacts.rows} 人）。"
                      f"其中 {consented} 人在实有人口采集时同意公开联系方式（公开联系方式为“是”），其电话完整列出，"
                      "供院落自治联系；其余电话按授权脱敏。"),
    ], quality=quality_notes(conn), lists=[contacts])
