"""Chinese names of the steward queue's rule codes (quality.issues.rule).

Codes stay English in the store and in logs (stable, greppable); stewards see these names in the
portal's filter and table and as the workbook's sheet titles. A test fails when a rule that can
reach the queue (row checks, GX suites, linkage, address matching) has no name here.
"""
from __future__ import annotations

RULE_TITLES: dict[str, str] = {
    # row checks at load (sql/raw/row_checks.sql)
    "required_missing": "必填项为空",
    "date_invalid": "日期无效",
    "date_future": "日期晚于导入日",
    "number_invalid": "数字无效",
    "id_numeric_cell": "身份证号被Excel改成数字",
    "id_invalid": "身份证号无效",
    "id_region_unknown": "身份证号地区码未知",
    "value_unknown": "取值不在范围内",
    "tag_unknown": "标签不在列表中",
    "birth_date_conflict": "出生日期与身份证号不符",
    "sex_conflict": "性别与身份证号不符",
    "column_unknown": "文件有模板外的列",
    "column_duplicate": "同一字段有两列",
    "quote_broken": "引号不成对",
    "extra_field": "值比表头多",
    "cell_error": "Excel错误值",
    "formula_no_value": "公式没有计算结果",
    "control_char": "含不可见控制字符",
    "too_long": "内容过长",
    # linkage and address matching (sql/quality/queue_sources.sql)
    "link_ambiguous": "无法确定是哪个人",
    "link_unlinkable": "信息不足无法关联人员",
    "link_likely_twin": "疑似双胞胎未合并",
    "link_household_member": "疑似同户家人未合并",
    "address_no_match": "地址找不到房屋",
    "address_multi_match": "地址对应多处房屋",
    # Great Expectations suites (expectations/*.json, meta.rule)
    "age_over_110": "年龄超过110岁",
    "birth_in_future": "出生日期晚于统计日",
    "community_parent_conflict": "社区上级街道矛盾",
    "date_order": "日期先后矛盾",
    "duplicate_batch": "批次重复",
    "duplicate_golden_id": "人员身份证号重复",
    "duplicate_house": "房屋重复",
    "duplicate_link": "记录重复关联",
    "duplicate_microgrid": "微网格重复",
    "duplicate_person_key": "人员主键重复",
    "duplicate_record": "记录重复",
    "duplicate_record_id": "记录序号重复",
    "duplicate_status": "人员状态重复",
    "grid_households_implausible": "网格户数异常",
    "grid_parent_conflict": "网格上级社区矛盾",
    "house_code_duplicate": "房屋编码重复",
    "house_orphan": "房屋不属于任何微网格",
    "house_overcrowded": "房屋居住人数过多",
    "house_unknown": "房屋编码不存在",
    "link_missing": "记录未做关联判定",
    "link_rule_missing": "关联缺少规则",
    "record_id_missing": "记录缺少序号",
    "match_house_missing": "匹配到的房屋不存在",
    "microgrid_households_implausible": "微网格户数异常",
    "parent_missing": "上级单位缺失",
    "phone_invalid": "电话号码无效",
    "reconciliation_mismatch": "行数对账不符",
    "record_no_duplicate": "记录编号重复",
    "resident_without_house": "在住人员无房屋",
    "value_not_canonical": "取值不规范",
}


def rule_title(rule: str | None) -> str:
    """The stewards' name of a rule; an unnamed code is shown as is rather than hidden."""
    if rule is None:
        return ""
    return RULE_TITLES.get(rule, rule)
