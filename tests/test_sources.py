"""The nine source templates load from sources/*.yaml and match the contract's required columns."""
from pipelines.sources import TEMPLATE_ORDER, normalize_header


def test_all_templates_load(catalog):
    assert [t.name for t in catalog] == list(TEMPLATE_ORDER)


def test_required_columns_follow_the_contract(catalog):
    required = {t.name: {f.name for f in t.required} for t in catalog}
    assert required["residents"] == {"姓名", "房屋编码", "人员类别", "采集日期"}
    assert required["floating"] == {"公民身份号码", "姓名", "现居住地址", "登记日期"}
    assert required["visits"] == {"房屋编码", "姓名", "走访日期", "走访结果"}


def test_aliases_map_to_one_field(catalog):
    index = catalog["residents"].header_index()
    for header in ("身份证号", "身份证号码", "公民身份号码", " 公民身份号码 "):
        assert index[normalize_header(header)].column == "id_number"


def test_full_width_headers_fold():
    assert normalize_header("小区（院落）") == normalize_header("小区(院落)")
