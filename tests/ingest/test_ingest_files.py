"""load_inbox on real files: encodings, XLSX layout, whole-file rejects, re-drops, lineage."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines.ingest import load_inbox
from pipelines.store import Store
from tests.ingest.conftest import LOADED_ON, RESIDENT_HEADER, resident, write_csv, write_xlsx


def load(store, inbox, catalog):
    with store.connect() as conn:
        return load_inbox(conn, inbox, loaded_on=LOADED_ON, catalog=catalog)


def query(store, sql, params=None):
    with store.connect(read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gbk"), ("gb18030", "gb18030"),
])
def test_csv_encodings_are_detected(store, catalog, inbox, encoding, expected):
    # 𠮷 (U+20BB7) exists in GB18030 only, so that file cannot be GBK.
    name = "𠮷祥" if expected == "gb18030" else "欧阳娜娜"
    write_csv(inbox / "residents" / "金沙社区.csv", RESIDENT_HEADER, [resident(1, name=name)], encoding)
    [result] = load(store, inbox, catalog)
    assert (result.status, result.rows_loaded) == ("loaded", 1)
    assert query(store, "SELECT encoding FROM raw.batches") == [(expected,)]
    assert query(store, "SELECT name, 公民身份号码 FROM (SELECT name, id_number AS 公民身份号码 FROM raw.residents)") == [
        (name, "510104199001010019")]


def test_quoted_fields_keep_commas_and_newlines_and_rows_count_records(store, catalog, inbox):
    rows = [resident(1, 人员标签="党员,志愿者"), resident(2, name="李\n四"), resident(3, collected="")]
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, rows)
    [result] = load(store, inbox, catalog)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert query(store, "SELECT row_no, tags, name FROM raw.residents ORDER BY row_no") == [
        (2, "党员,志愿者", "张三"), (3, None, "李\n四"), (4, None, "张三")]
    # Row 4 is the third record even though record 2 spans two physical lines.
    assert query(store, "SELECT row_no, rule, message FROM raw.row_errors WHERE severity = 'reject'") == [
        (4, "required_missing", "residents/a.csv 第4行 采集日期 为空，此项必填")]


def test_xlsx_title_rows_totals_numeric_ids_and_dates(store, catalog, inbox):
    header = ["姓名", "身份证号码", "性别", "出生日期", "房屋编码", "人员类别", "采集日期"]
    write_xlsx(inbox / "residents" / "金沙社区.xlsx", [
        ["XX社区实有人口采集表"],
        ["填报日期：2024年5月"],
        [],
        header,
        ["张三", "510104199001010019", "男", dt.date(1990, 1, 1), "H001", "户籍", dt.datetime(2024, 3, 5, 9, 30)],
        ["李四", 510104199001011000, "女", 32874, "H002", "流动", 45356],                  # numeric ID, serials
        ["王五", "5.10104E+17", "男", "1990/1/1", "H003", "户籍", "2024年3月5日"],          # Excel-mangled text
        ["赵六", "11010519491231002X", "女", "1949-12-31", "0001", "户籍", dt.date(2024, 3, 5)],
        ["合计", None, None, None, None, None, None],
        [], [],
    ])
    [result] = load(store, inbox, catalog)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected) == ("loaded", 4, 2, 2)
    assert query(store, "SELECT header_row, file_format, encoding FROM raw.batches") == [(4, "xlsx", None)]
    raw = query(store, "SELECT row_no, birth_date, collected_on, cell_types FROM raw.residents ORDER BY row_no")
    assert raw == [
        (5, "1990-01-01", "2024-03-05 09:30:00", {"birth_date": "date", "collected_on": "date"}),
        (6, "1990-01-01", "2024-03-05", {"id_number": "number", "birth_date": "number", "collected_on": "number"}),
        (7, "1990/1/1", "2024年3月5日", {}),
        (8, "1949-12-31", "2024-03-05", {"collected_on": "date"}),
    ]
    errors = query(store, "SELECT row_no, rule, severity, message FROM raw.row_errors WHERE severity = 'reject' "
                          "ORDER BY row_no")
    assert [(r, rule) for r, rule, _, _ in errors] == [(6, "id_numeric_cell"), (7, "id_numeric_cell")]
    assert errors[1][3] == ('residents/金沙社区.xlsx 第7行 公民身份号码 "5.10104E+17" '
                            "是数字格式，Excel已丢失末几位，请以文本格式重新录入")


def test_file_missing_a_required_column_is_rejected_whole_others_load(store, catalog, inbox):
    header = [h for h in RESIDENT_HEADER if h != "采集日期"]
    write_xlsx(inbox / "residents" / "金沙社区.xlsx", [header, resident(1)[:-1]])
    write_csv(inbox / "residents" / "b.csv", RESIDENT_HEADER, [resident(1)])
    results = {r.file_name: r for r in load(store, inbox, catalog)}
    bad = results["residents/金沙社区.xlsx"]
    assert bad.status == "rejected"
    assert bad.message == "residents/金沙社区.xlsx 缺少必填列：采集日期"
    assert results["residents/b.csv"].status == "loaded"
    assert query(store, "SELECT file_name, status, message FROM raw.batches ORDER BY file_name") == [
        ("residents/b.csv", "loaded", None), ("residents/金沙社区.xlsx", "rejected", bad.message)]
    assert query(store, "SELECT count(*) FROM raw.residents") == [(1,)]


def test_unmatched_headers_and_wrong_folder_are_named(store, catalog, inbox):
    write_csv(inbox / "residents" / "x.csv", ["甲", "乙"], [["1", "2"]])
    hukou = ["公民身份号码", "姓名", "户籍地址", "户籍状态"]
    write_csv(inbox / "residents" / "户籍.csv", hukou, [["510104199001010019", "张三", "锦江区某路1号", "正常"]])
    results = {r.file_name: r for r in load(store, inbox, catalog)}
    assert results["residents/x.csv"].status == "rejected"
    assert "未找到任何已知列" in results["residents/x.csv"].message
    assert "应放在 hukou 文件夹" in results["residents/户籍.csv"].message


def test_redropping_a_file_is_a_noop(store, catalog, inbox):
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, [resident(1), resident(2)])
    [first] = load(store, inbox, catalog)
    (inbox / "residents" / "a 副本.csv").write_bytes((inbox / "residents" / "a.csv").read_bytes())
    second = load(store, inbox, catalog)
    assert first.new and first.status == "loaded"
    assert [(r.status, r.new) for r in second] == [("skipped", False), ("skipped", False)]
    assert query(store, "SELECT count(*) FROM raw.batches") == [(1,)]
    assert query(store, "SELECT count(*) FROM raw.residents") == [(2,)]


def test_rejected_file_is_reexamined_only_when_the_templates_change(store, catalog, inbox):
    import dataclasses

    header = [h if h != "采集日期" else "入户日期" for h in RESIDENT_HEADER]
    write_csv(inbox / "residents" / "a.csv", header, [resident(1)])
    assert [r.status for r in load(store, inbox, catalog)] == ["rejected"]
    assert [r.status for r in load(store, inbox, catalog)] == ["skipped"]
    # A new alias in sources/residents.yaml (simulated by a changed catalog) lets it load.
    t = catalog["residents"]
    fields = tuple(dataclasses.replace(f, aliases=(*f.aliases, "入户日期")) if f.column == "collected_on" else f
                   for f in t.fields)
    changed = dataclasses.replace(catalog, templates={**catalog.templates,
                                                      "residents": dataclasses.replace(t, fields=fields)})
    assert [r.status for r in load(store, inbox, changed)] == ["loaded"]
    assert query(store, "SELECT status, rows_loaded FROM raw.batches") == [("loaded", 1)]


def test_unknown_folder_and_file_types_are_reported_not_loaded(store, catalog, inbox):
    write_csv(inbox / "居民" / "a.csv", RESIDENT_HEADER, [resident(1)])
    write_csv(inbox / "residents" / "a.txt", RESIDENT_HEADER, [resident(1)])
    write_csv(inbox / "residents" / "ok.csv", RESIDENT_HEADER, [resident(1)])
    results = {r.file_name: r for r in load(store, inbox, catalog)}
    assert results["居民/a.csv"].status == "ignored" and "文件夹 居民 不是采集模板" in results["居民/a.csv"].message
    assert results["residents/a.txt"].status == "ignored" and "不支持 .txt 文件" in results["residents/a.txt"].message
    assert results["residents/ok.csv"].status == "loaded"
    assert query(store, "SELECT file_name FROM raw.batches") == [("residents/ok.csv",)]
    assert query(store, "SELECT path, kind, outcome, reason FROM raw.inbox_files ORDER BY path") == [
        ("residents/", "folder", "template", None), ("residents/a.txt", "file", "ignored", "unsupported_type"),
        ("residents/ok.csv", "file", "loaded", None), ("居民/", "folder", "ignored", "not_template_folder"),
        ("居民/a.csv", "file", "ignored", "not_template_folder")]


def test_unknown_columns_are_kept_with_one_warning_per_file(store, catalog, inbox):
    write_csv(inbox / "residents" / "a.csv", [*RESIDENT_HEADER, "微信号", "备注2"],
              [resident(1) + ["wx1", ""], resident(2) + ["", "x"]])
    load(store, inbox, catalog)
    assert query(store, "SELECT row_no, extra_fields FROM raw.residents ORDER BY row_no") == [
        (2, {"微信号": "wx1"}), (3, {"备注2": "x"})]
    assert query(store, "SELECT row_no, rule, severity, message FROM raw.row_errors") == [
        (None, "column_unknown", "warn", "residents/a.csv 有模板中没有的列：微信号、备注2（数据已保留，但不会被使用）")]


def test_row_rules_and_row_count_identity(store, catalog, inbox):
    rows = [
        resident(1),                                              # clean
        resident(2, birth="2024-02-30"),                          # reject date_invalid
        resident(3, collected="2024-07-01"),                      # reject date_future (after loaded_on)
        resident(4, name=""),                                     # reject required_missing
        resident(5, id_number="510104199001010018"),              # warn id_invalid 校验码错误
        resident(6, sex="男的"),                                  # warn value_unknown
        resident(7, 人员标签="党员;外星人"),                       # warn tag_unknown
        resident(8, id_number="990104199001010018"),              # warn id_region_unknown
        resident(9, birth="1991-01-01", sex="女"),                # warn birth_date_conflict + sex_conflict
        resident(10, id_number="510104199001011000"),             # reject: Excel ate the last digits
    ]
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, rows)
    [result] = load(store, inbox, catalog)
    errors = query(store, "SELECT row_no, rule, severity FROM raw.row_errors ORDER BY row_no, rule")
    assert errors == [
        (3, "date_invalid", "reject"), (4, "date_future", "reject"), (5, "required_missing", "reject"),
        (6, "id_invalid", "warn"), (7, "value_unknown", "warn"), (8, "tag_unknown", "warn"),
        (9, "id_region_unknown", "warn"), (10, "birth_date_conflict", "warn"), (10, "sex_conflict", "warn"),
        (11, "id_numeric_cell", "reject"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (10, 6, 4)
    assert query(store, "SELECT rows_read, rows_loaded, rows_rejected FROM raw.batches") == [(10, 6, 4)]
    messages = dict(query(store, "SELECT rule, message FROM raw.row_errors"))
    assert messages["date_invalid"] == 'residents/a.csv 第3行 出生日期 "2024-02-30" 不是有效日期（可写作 2024-03-05、2024/3/5、20240305 或 2024年3月5日）'
    # the message quotes the cell masked by its class; raw.row_errors.value keeps it whole for the steward
    assert messages["id_invalid"] == 'residents/a.csv 第6行 公民身份号码 "510104********0018" 无效：校验码错误'


def test_batches_are_numbered_in_load_order_and_an_older_store_is_numbered_once(store, catalog, inbox):
    # batch_no feeds core's record_id: it must be unique and never change once given
    write_csv(inbox / "residents" / "a.csv", RESIDENT_HEADER, [resident(1)])
    load(store, inbox, catalog)
    with store.connect() as conn:   # a store written before batch_no existed
        conn.execute("ALTER TABLE raw.batches DROP COLUMN batch_no")
        conn.execute("INSERT INTO raw.batches (batch_id, template, file_name, status, loaded_at) "
                     "VALUES ('older', 'residents', 'residents/旧.csv', 'rejected', TIMESTAMP '2020-01-01')")
    write_csv(inbox / "residents" / "b.csv", RESIDENT_HEADER, [resident(2)])
    load(store, inbox, catalog)
    numbered = query(store, "SELECT file_name, batch_no FROM raw.batches ORDER BY batch_no")
    assert numbered == [("residents/旧.csv", 1), ("residents/a.csv", 2), ("residents/b.csv", 3)]
    load(store, inbox, catalog)
    assert query(store, "SELECT file_name, batch_no FROM raw.batches ORDER BY batch_no") == numbered


@pytest.mark.slow   # an inbox loaded twice, side by side and one batch at a time
def test_batches_loaded_side_by_side_equal_one_at_a_time_and_keep_path_order(catalog, inbox, tmp_path):
    # A fresh store, so the first batch of each template creates staging.<template> while the others wait;
    # rows big enough (> one 2048-row vector) that two loads really overlap.
    for c, community in enumerate(["金沙", "青羊", "草堂", "浣花"]):
        rows = [resident(n, name=f"居民{n}", 房屋编码=f"H{c}{n:05d}", collected="" if n % 97 == 0 else "2024-03-05")
                for n in range(1, 6001)]
        write_csv(inbox / "residents" / f"{community}社区.csv", RESIDENT_HEADER, rows)
    write_csv(inbox / "residents" / "重复.csv", RESIDENT_HEADER, [resident(1, name="重复")])
    (inbox / "residents" / "重复副本.csv").write_bytes((inbox / "residents" / "重复.csv").read_bytes())
    write_csv(inbox / "residents" / "空表.csv", ["备注"], [["无"]])   # rejected: no template column
    stores = {}
    for workers in (1, 2):
        stores[workers] = Store(tmp_path / f"store-{workers}.duckdb")
        with stores[workers].connect() as conn:
            results = load_inbox(conn, inbox, loaded_on=LOADED_ON, catalog=catalog, workers=workers)
        assert [(r.file_name, r.status) for r in results] == [   # path order
            ("residents/浣花社区.csv", "loaded"), ("residents/空表.csv", "rejected"),
            ("residents/草堂社区.csv", "loaded"), ("residents/重复.csv", "loaded"),
            ("residents/重复副本.csv", "skipped"), ("residents/金沙社区.csv", "loaded"),
            ("residents/青羊社区.csv", "loaded")]
    one, two = (query(s, "SELECT file_name, batch_no, status, rows_read, rows_loaded, rows_rejected, loaded_at "
                         "FROM raw.batches ORDER BY batch_no") for s in (stores[1], stores[2]))
    files = [r.file_name for r in results if r.status != "skipped"]
    assert [r[0] for r in two] == files and [r[1] for r in two] == [1, 2, 3, 4, 5, 6]
    assert [r[:6] for r in one] == [r[:6] for r in two]
    assert [r[6] for r in two] == sorted({r[6] for r in two})   # loaded_at rises with batch_no: the newer file
    assert sum(r[5] for r in two) == 4 * (6000 // 97)
    for table in ("raw.residents", "raw.row_errors", "staging.residents"):
        rows = [query(s, f"SELECT * FROM {table} ORDER BY ALL") for s in (stores[1], stores[2])]
        assert rows[0] == rows[1] and len(rows[0]) > 0, table
    assert query(stores[2], "SELECT count(*) FROM staging.residents") == [(4 * 6000 - 4 * (6000 // 97) + 1,)]
