"""build_staging over real inbox files: typed columns, canonical values, the ID family, lineage."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipelines.ingest import load_inbox
from pipelines.staging import build_staging
from tests.ingest.conftest import LOADED_ON, RESIDENT_HEADER, resident, write_csv, write_xlsx


def build(store, inbox, catalog):
    with store.connect() as conn:
        results = load_inbox(conn, inbox, loaded_on=LOADED_ON, catalog=catalog)
        counts = build_staging(conn, catalog=catalog)
    return results, counts


def query(store, sql):
    with store.connect(read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_staging_holds_exactly_the_rows_not_rejected(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    rows = [resident(1), resident(2, birth="1990-02-30"), resident(3, id_number="510104199001010018"),
            resident(4, collected="2099-01-01")]
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, rows, "gbk")
    [result], counts = build(store, inbox, catalog)
    assert counts["residents"] == result.rows_loaded == 2
    assert query(store, "SELECT row_no, record_no FROM staging.residents") == [(2, "R1"), (4, "R3")]
    assert counts["grids"] == 0 and query(store, "SELECT count(*) FROM staging.grids") == [(0,)]


def test_resident_columns_are_typed_and_normalised(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    rows = [
        resident(1, name=" 阿卜杜•买买提 ", id_number="510104900101001", sex="M", birth="1990年1月1日",
                 人员类别="流动", 人员标签="中共党员；楼长", 联系电话="+86 138-1234-1234"),
        resident(2, id_number="11010519491231002x", sex="男", birth="1950/1/1", 人员类别="外籍", 人员标签="党员;火星人"),
        resident(3, id_number="", sex="", birth=""),
    ]
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, rows)
    build(store, inbox, catalog)
    got = query(store, """
        SELECT name, name_raw, id_number, id_raw, id_valid, id_problem, id_region_known, id_birth_date, id_sex,
               sex, sex_unknown, birth_date, category, category_unknown, tags, tags_unknown, phone,
               birth_date_conflict, sex_conflict, collected_on
        FROM staging.residents ORDER BY row_no""")
    assert got[0] == ("阿卜杜·买买提", "阿卜杜•买买提", "510104199001010019", "510104900101001", True, None, True,
                      dt.date(1990, 1, 1), "男", "男", False, dt.date(1990, 1, 1), "流动人口", False,
                      ["党员", "楼栋长"], False, "13812341234", False, False, dt.date(2024, 3, 5))
    assert got[1][2:9] == ("11010519491231002X", "11010519491231002x", True, None, True, dt.date(1949, 12, 31), "女")
    assert got[1][9:19] == ("男", False, dt.date(1950, 1, 1), None, True, ["党员"], True, "13812341234", True, True)
    assert got[2][2:9] == (None, None, False, None, None, None, None)


def test_xlsx_dates_and_numbers_reach_staging_typed(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    write_xlsx(inbox / "assistance" / "低保.xlsx", [
        ["2024年低保名册"],
        ["记录编号", "身份证号", "姓名", "保障类别", "保障人数", "月救助金额", "起始日期", "终止日期"],
        ["A1", "510104199001010019", "张三", "城市低保", 3, 1250.5, dt.date(2024, 1, 1), 45657],
        ["A2", "510104199001010019", "张三", "特困", "2", "1,200", "2024/2/1", None],
        ["合 计", None, None, None, 5, 2450.5, None, None],
    ])
    [result], counts = build(store, inbox, catalog)
    assert (result.rows_read, counts["assistance"]) == (2, 2)
    assert query(store, """SELECT row_no, record_no, assistance_type, covered_persons, monthly_amount, start_date,
                                  end_date, id_valid FROM staging.assistance ORDER BY row_no""") == [
        (3, "A1", "城市低保", 3, Decimal("1250.50"), dt.date(2024, 1, 1), dt.date(2024, 12, 31), True),
        (4, "A2", "特困供养", 2, Decimal("1200.00"), dt.date(2024, 2, 1), None, True),
    ]


def test_housing_owner_id_family_and_grids_without_record_no(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv(inbox / "housing" / "h.csv",
              ["房屋编码", "微网格编码", "标准地址", "房屋用途", "居住类型", "产权人", "产权人身份证号", "采集日期"],
              [["0001", "MG01", "锦江区某路1号3栋2单元501", "居住", "租赁", "李 四", "510104199001010018", "2024-01-02"]])
    write_csv(inbox / "grids" / "g.csv",
              ["区县代码", "区县名称", "街道代码", "街道名称", "社区代码", "社区名称", "网格编码", "网格名称", "网格类型",
               "微网格编码", "微网格名称", "网格员", "网格员电话"],
              [["510104", "锦江区", "510104001", "春熙路街道", "510104001001", "金沙社区", "G01", "一网格", "一般",
                "MG01", "一号微网格", "王五", "13900001111"]])
    build(store, inbox, catalog)
    assert query(store, """SELECT house_code, usage, occupancy, owner_name, owner_name_raw, owner_id_number,
                                  owner_id_valid, owner_id_problem, collected_on FROM staging.housing""") == [
        ("0001", "住宅", "出租", "李四", "李 四", "510104199001010018", False, "校验码错误", dt.date(2024, 1, 2))]
    assert query(store, "SELECT record_no, grid_type, microgrid_code, grid_worker_phone FROM staging.grids") == [
        (None, "一般网格", "MG01", "13900001111")]


def test_every_staging_table_has_every_catalog_column(store, catalog, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    build(store, inbox, catalog)
    with store.connect(read_only=True) as conn:
        for t in catalog:
            have = {r[0] for r in conn.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = ?",
                [t.name]).fetchall()}
            assert {"batch_id", "row_no", "record_no", *t.columns} <= have, t.name
            for f in t.fields:
                if f.type == "id_number":
                    p = f.column[: -len("id_number")]
                    assert {f"{p}id_raw", f"{p}id_valid", f"{p}id_problem", f"{p}id_region_known",
                            f"{p}id_birth_date", f"{p}id_sex"} <= have, t.name
                if f.type == "name":
                    assert f"{f.column}_raw" in have
                if f.type in ("value", "tags"):
                    assert f"{f.column}_unknown" in have


def test_reading_raw_directly_equals_the_overlay_when_no_fix_stands(store, catalog, tmp_path):
    """build_staging skips the corrections overlay while quality.corrections holds no fix; both
    paths must give the same rows (including the rejected-row filter)."""
    from pipelines.staging import corrections_stand, staging_sql

    inbox = tmp_path / "inbox"
    rows = [resident(1), resident(2, birth="1990-02-30"), resident(3, id_number="510104199001010018"),
            resident(4, 人员类别="")]
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, rows)
    build(store, inbox, catalog)
    with store.connect() as conn:
        assert not corrections_stand(conn)
        direct = conn.execute("SELECT * FROM staging.residents ORDER BY row_no").fetchall()
        conn.execute(staging_sql("residents", catalog, overlay=True))
        assert conn.execute("SELECT * FROM staging.residents ORDER BY row_no").fetchall() == direct
    assert [r[1] for r in direct] == [2, 4]
