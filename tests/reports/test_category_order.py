"""Categories in their natural order (the code lists of sql/reports/categories.sql), on the demo street's reports
as the run rendered them: ages and durations ascending, provinces by GB/T 2260 code, 不详/其他 last."""
from __future__ import annotations

import openpyxl
import pytest

from .test_reports import table

# GB/T 2260 province codes, written here apart from sql/reports/provinces.sql so a mistake there shows
GB2260 = {"北京市": 11, "天津市": 12, "河北省": 13, "山西省": 14, "内蒙古自治区": 15, "辽宁省": 21, "吉林省": 22,
          "黑龙江省": 23, "上海市": 31, "江苏省": 32, "浙江省": 33, "安徽省": 34, "福建省": 35, "江西省": 36,
          "山东省": 37, "河南省": 41, "湖北省": 42, "湖南省": 43, "广东省": 44, "广西壮族自治区": 45, "海南省": 46,
          "重庆市": 50, "四川省": 51, "贵州省": 52, "云南省": 53, "西藏自治区": 54, "陕西省": 61, "甘肃省": 62,
          "青海省": 63, "宁夏回族自治区": 64, "新疆维吾尔自治区": 65, "台湾省": 71, "香港特别行政区": 81,
          "澳门特别行政区": 82}
LAST = ["其他", "其他或不详", "不详", "性别不详", "未登记", "无法关联到人员"]


def categories(ws) -> list[str]:
    _, body = table(ws)
    return [r[0] for r in body if not str(r[0]).startswith("合计")]


def assert_in_order(values: list[str], order: list[str]):
    known = [v for v in values if v not in LAST]
    assert set(known) <= set(order), set(known) - set(order)
    assert known == sorted(known, key=order.index), values
    tail = [v for v in values if v in LAST]
    assert values == known + tail and tail == sorted(tail, key=LAST.index), values


@pytest.fixture(scope="module")
def reports(demo_world):
    return demo_world["home"] / "reports" / "2026-10-31"


def test_floating_stats_categories_follow_their_code_lists(reports):
    wb = openpyxl.load_workbook(reports / "floating-stats.xlsx")
    provinces = categories(wb["按户籍省份"])
    assert len(provinces) >= 5 and "不详" in provinces, provinces      # the demo's migrants come from many provinces
    assert_in_order(provinces, sorted(GB2260, key=GB2260.get))
    ages = categories(wb["按性别、年龄段"])
    assert len(ages) >= 3
    assert_in_order(ages, ["18岁以下", "18-34岁", "35-59岁", "60岁以上"])
    stays = categories(wb["按居住时长"])
    assert len(stays) >= 3
    assert_in_order(stays, ["半年以内", "半年至一年", "一至三年", "三年以上"])
    assert_in_order(categories(wb["按是否租住"]), ["是", "否"])


def test_status_and_disability_categories_follow_their_code_lists(reports):
    wb = openpyxl.load_workbook(reports / "disability-check.xlsx")
    rows = table(wb["在住残疾人（按社区、残疾类别）"])[1]
    by_community: dict[str, list[str]] = {}
    for r in rows[:-1]:
        by_community.setdefault(r[0], []).append(r[1])
    assert by_community and max(len(v) for v in by_community.values()) >= 4
    for kinds in by_community.values():
        assert_in_order([k.removesuffix("残疾") for k in kinds], ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"])
    for book, sheet in (("disability-check", "需核查（死亡、已离开、待核实或无法关联）"),
                        ("assistance-check", "按社区、状态统计")):
        rows = table(openpyxl.load_workbook(reports / f"{book}.xlsx")[sheet])[1]
        by_community = {}
        for r in rows[:-1]:
            by_community.setdefault(r[0], []).append(r[1])
        assert any(len(v) >= 2 for v in by_community.values()), (book, by_community)
        for states in by_community.values():
            assert_in_order(states, ["在住", "待核实", "已离开", "死亡"])
