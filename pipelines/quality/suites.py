"""The staging suites are derived from ``sources/*.yaml`` (required fields, value lists, ID and date
fields) whenever the suites are read (``pipelines.quality.validate.suite_docs``), so a template change
cannot leave its suite behind. Core suites (``expectations/core_*.json``, ``raw_batches.json``) are
written by hand in GX's JSON.
"""
from __future__ import annotations

from pipelines.sources import Catalog, Template

PERSON_TEMPLATES = ("residents", "visits", "hukou", "floating", "assistance", "deaths", "disability")
GX_SEVERITY = {"structural": "critical", "row-level": "warning"}


def _exp(kind: str, kwargs: dict, *, rule: str, level: str, field: str | None, column: str | None,
         description: str, **meta) -> dict:
    m = {"rule": rule, "level": level, "field": field, "column": column, "description_zh": description, **meta}
    return {"type": kind, "kwargs": kwargs, "meta": {k: v for k, v in m.items() if v is not None},
            "severity": GX_SEVERITY[level]}


def _id_prefix(column: str) -> str:
    # staging's id family: id_number -> id_valid, id_raw; owner_id_number -> owner_id_valid, ...
    return column[: -len("number")]


def staging_suite(t: Template, catalog: Catalog) -> dict:
    exps: list[dict] = []
    cols = set(t.columns)
    for f in t.fields:
        c = f.column
        if f.type == "value":
            exps.append(_exp("expect_column_values_to_be_in_set",
                             {"column": c, "value_set": catalog.canonical_values(f.values)},
                             rule="value_not_canonical", level="structural", field=f.name, column=c,
                             description=f"{f.name}只能是规定的取值（{'、'.join(catalog.canonical_values(f.values))}）"))
            exps.append(_exp("unexpected_rows_expectation", {
                "unexpected_rows_query": (f"SELECT s.*, r.{c} AS raw_value FROM {{batch}} s JOIN raw.{t.name} r "
                                          f"USING (batch_id, row_no) WHERE s.{c}_unknown"),
                "description": f"{f.name} 的写法不在取值列表中"},
                rule="value_unknown", level="row-level", field=f.name, column=c, value="raw_value",
                description=f"{f.name}的写法不认识，请改为规定的取值之一"))
            if f.required:
                exps.append(_exp("unexpected_rows_expectation", {
                    "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE {c} IS NULL AND NOT coalesce({c}_unknown, false)",
                    "description": f"必填字段 {f.name} 为空"},
                    rule="required_missing", level="structural", field=f.name, column=c,
                    description=f"必填字段{f.name}为空"))
        elif f.required and f.type != "tags":
            exps.append(_exp("expect_column_values_to_not_be_null", {"column": c},
                             rule="required_missing", level="structural", field=f.name, column=c,
                             description=f"必填字段{f.name}为空"))
        if f.type == "id_number":
            p = _id_prefix(c)
            exps.append(_exp("unexpected_rows_expectation", {
                "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE {c} IS NOT NULL AND NOT coalesce({p}valid, false)",
                "description": f"{f.name} 无效"},
                rule="id_invalid", level="row-level", field=f.name, column=c, value=f"{p}raw",
                description=f"{f.name}无效（长度、格式、校验码或出生日期不对），请核对证件后更正"))
            exps.append(_exp("unexpected_rows_expectation", {
                "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE coalesce({p}valid, false) AND {p}region_known = false",
                "description": f"{f.name} 的地区码不认识"},
                rule="id_region_unknown", level="row-level", field=f.name, column=c, value=f"{p}raw",
                description=f"{f.name}前6位地区码不在已知行政区划中，请核对"))
        if f.type == "date" and f.not_future:
            exps.append(_exp("unexpected_rows_expectation", {
                "unexpected_rows_query": (f"SELECT t.* FROM {{batch}} t JOIN raw.batches b ON b.batch_id = t.batch_id "
                                          f"WHERE t.{c} > b.loaded_on"),
                "description": f"{f.name} 晚于导入日期"},
                rule="date_future", level="row-level", field=f.name, column=c,
                description=f"{f.name}晚于文件导入当天，日期不可能在将来"))
        if f.type == "phone":
            exps.append(_exp("expect_column_values_to_match_regex",
                             {"column": c, "regex": r"^(1[3-9][0-9]{9}|0[0-9]{9,11}|[0-9]{7,8})$"},
                             rule="phone_invalid", level="row-level", field=f.name, column=c,
                             description=f"{f.name}不是有效的手机或固定电话号码"))
    if t.name in PERSON_TEMPLATES:
        for c, zh in (("birth_date", "出生日期"), ("sex", "性别")):
            if c in cols:
                exps.append(_exp("unexpected_rows_expectation", {
                    "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE {c}_conflict",
                    "description": f"{zh}与身份证号码不一致"},
                    rule=f"{c}_conflict", level="row-level", field=zh, column=c,
                    description=f"填写的{zh}与公民身份号码中的不一致，请核对"))
    if "record_no" in cols:
        exps.append(_exp("expect_compound_columns_to_be_unique", {"column_list": ["batch_id", "record_no"]},
                         rule="record_no_duplicate", level="row-level", field="记录编号", column="record_no",
                         description="同一文件中记录编号重复"))
    if t.name == "housing":
        exps.append(_exp("expect_compound_columns_to_be_unique", {"column_list": ["batch_id", "house_code"]},
                         rule="house_code_duplicate", level="row-level", field="房屋编码", column="house_code",
                         description="同一文件中房屋编码重复"))
    if t.name in ("residents", "visits"):
        exps.append(_exp("unexpected_rows_expectation", {
            "unexpected_rows_query": ("SELECT s.* FROM {batch} s ANTI JOIN core.houses h ON h.house_code = s.house_code "
                                      "WHERE s.house_code IS NOT NULL"),
            "description": "房屋编码不在实有房屋中"},
            rule="house_unknown", level="row-level", field="房屋编码", column="house_code",
            description="房屋编码在实有房屋表中找不到，请核对编码或先补录房屋"))
    for a, b, za, zb in (("start_date", "end_date", "起始日期", "终止日期"),
                         ("registered_on", "deregistered_on", "登记日期", "注销日期"),
                         ("death_date", "cremation_date", "死亡日期", "火化日期")):
        if a in cols and b in cols:
            exps.append(_exp("unexpected_rows_expectation", {
                "unexpected_rows_query": f"SELECT * FROM {{batch}} WHERE {b} < {a}",
                "description": f"{zb}早于{za}"},
                rule="date_order", level="row-level", field=zb, column=b,
                description=f"{zb}早于{za}，请核对"))
    # Every loaded row reaches staging. Corrections may re-admit rejected rows, hence a range.
    exps.append(_exp("unexpected_rows_expectation", {
        "unexpected_rows_query": (
            "SELECT b.batch_id, b.rows_read, b.rows_loaded, b.rows_rejected, count(s.batch_id) AS staged "
            f"FROM raw.batches b LEFT JOIN {{batch}} s ON s.batch_id = b.batch_id "
            f"WHERE b.template = '{t.name}' AND b.status = 'loaded' "
            "GROUP BY ALL HAVING b.rows_read <> b.rows_loaded + b.rows_rejected "
            "OR count(s.batch_id) NOT BETWEEN b.rows_loaded AND b.rows_read"),
        "description": "批次行数与暂存表行数对不上"},
        rule="reconciliation_mismatch", level="structural", field=None, column=None,
        row_key="batch_id", value="staged",
        description="文件读取行数、导入行数与拒收行数对不上（程序问题，请联系技术人员）"))
    location = {"grids": {"microgrid_code": "microgrid_code"}, "housing": {"microgrid_code": "microgrid_code"}}
    meta = {"table": f"staging.{t.name}", "template": t.name, "layer": "staging",
            **location.get(t.name, {"house_code": "house_code"})}
    return {"name": f"staging_{t.name}", "expectations": exps, "meta": meta}

