"""Department grants against real extract files: columns, masking, scope, refusals, reproducibility, audit."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re

import openpyxl
import pyarrow.parquet as pq
import pytest

AS_OF = dt.date(2026, 10, 31)
from pipelines.publish import GrantRefused, NotAvailable, load_registry, write_extract
from pipelines.publish.audit import handouts

ID_MASKED = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
ID_WHOLE = re.compile(r"^\d{17}[\dX]$")
# a value that holds an ID (残疾证号 = ID + two digits): 前6后4 of the whole value, or all stars when short
HOLDS_ID_MASKED = re.compile(r"^(\w{6}\*+\w{4}|\*{1,10})$")
PHONE_MASKED = re.compile(r"^\d{3}\*{4}\d{4}$")


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def scope_for(dept):
    return {"community": "C1", "grid": "G2"}.get(load_registry().departments[dept].level)


REG = load_registry()
PAIRS = [(d, x) for d in REG.departments for x in REG.extracts]


@pytest.mark.parametrize("dept,extract", PAIRS, ids=[f"{d}-{x}" for d, x in PAIRS])
def test_every_department_extract_pair_follows_its_grant(conn, tmp_path, dept, extract):
    department = REG.departments[dept]
    grant = department.extracts.get(extract)
    user = "steward"
    out = tmp_path / f"{extract}.csv"
    if grant is None:
        with pytest.raises(GrantRefused, match="无权获取"):
            write_extract(conn, extract, home=tmp_path, fmt="csv", out=out, dept=dept, scope=scope_for(dept), as_of=AS_OF, user=user)
        assert not out.exists()
        return
    result = write_extract(conn, extract, home=tmp_path, fmt="csv", out=out, dept=dept, scope=scope_for(dept), as_of=AS_OF, user=user)
    header, rows = read_csv(out)
    assert header == list(grant.columns)
    assert result.rows == len(rows)
    spec = REG.extracts[extract]
    for i, name in enumerate(header):
        kind = spec.column(name).kind
        values = [r[i] for r in rows if r[i]]
        if name == "公民身份号码":
            pattern = ID_WHOLE if grant.masking.id == "全文" else ID_MASKED
            assert all(pattern.match(v) for v in values), (name, values)
        elif kind == "id" and grant.masking.id != "全文":
            assert all(HOLDS_ID_MASKED.match(v) for v in values), (name, values)
        if kind == "phone" and grant.masking.phone == "中间四位":
            assert all(PHONE_MASKED.match(v) for v in values), (name, values)
    # Community-level departments see only their community, grid-level ones only their grid.
    if department.level == "grid":
        assert {r[header.index("网格编码")] for r in rows} <= {"G2"} and rows
    if department.level == "community":
        for col in ("社区代码", "社区名称"):
            if col in header:
                assert {r[header.index(col)] for r in rows} <= {"C1", "金沙社区"}
        assert "P13" not in out.read_text(encoding="utf-8-sig")   # lives in 河滨社区


def test_education_gets_children_not_everyone(conn, tmp_path):
    r = write_extract(conn, "school-age-children", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="教育", scope=None,
                      as_of=AS_OF, user="u")
    header, rows = read_csv(r.path)
    assert "人员主键" not in header
    # 2026-10-31 is in school year 2026–2027: the next enrolment (September 2027) is 张二's, born 2020-10-01;
    # 张一 (born 2020-05-01) started school in September 2026
    assert [row[header.index("姓名")] for row in rows] == ["张二"]
    for other in ("person-sources", "grid-population", "health-key-groups"):
        with pytest.raises(GrantRefused):
            write_extract(conn, other, home=tmp_path, fmt="csv", out=tmp_path / "x.csv", dept="教育", scope=None, as_of=AS_OF, user="u")


def test_person_sources_only_for_street_stewards(conn, tmp_path):
    with pytest.raises(GrantRefused, match="数据专员"):
        write_extract(conn, "person-sources", home=tmp_path, fmt="csv", out=tmp_path / "p.csv", dept="街道办", scope=None,
                      as_of=AS_OF, user="clerk")
    write_extract(conn, "person-sources", home=tmp_path, fmt="csv", out=tmp_path / "p.csv", dept="街道办", scope=None,
                  as_of=AS_OF, user="steward")
    for dept in ("公安", "民政"):
        write_extract(conn, "person-sources", home=tmp_path, fmt="csv", out=tmp_path / f"{dept}.csv", dept=dept, scope=None,
                      as_of=AS_OF, user="anyone")


def test_scope_limits_rows_and_is_refused_outside_jurisdiction(conn, tmp_path):
    whole = write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "a.csv", dept="街道办", scope=None,
                          as_of=AS_OF, user="u")
    street = write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "b.csv", dept="街道办", scope="草堂街道",
                           as_of=AS_OF, user="u")
    header, rows = read_csv(street.path)
    assert whole.rows == 4 and street.rows == 3
    assert {r[header.index("街道代码")] for r in rows} == {"S1"}
    with pytest.raises(GrantRefused, match="本社区"):
        write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="社区", scope=None,
                      as_of=AS_OF, user="u")
    with pytest.raises(GrantRefused, match="社区级"):
        write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="社区", scope="S1",
                      as_of=AS_OF, user="u")
    with pytest.raises(GrantRefused, match="不是网格表"):
        write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="公安", scope="火星社区",
                      as_of=AS_OF, user="u")
    # The scoped lineage extract carries only persons placed in the community.
    r = write_extract(conn, "assistance-check", home=tmp_path, fmt="csv", out=tmp_path / "d.csv", dept="民政", scope="C1",
                      as_of=AS_OF, user="u")
    assert r.rows == 3
    r = write_extract(conn, "assistance-check", home=tmp_path, fmt="csv", out=tmp_path / "e.csv", dept="民政", scope="C3",
                      as_of=AS_OF, user="u")
    assert r.rows == 0


def test_columns_outside_grant_are_refused_not_trimmed(conn, tmp_path):
    with pytest.raises(GrantRefused, match="人员主键"):
        write_extract(conn, "school-age-children", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="教育", scope=None,
                      as_of=AS_OF, user="u", columns=["姓名", "人员主键"])
    r = write_extract(conn, "school-age-children", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="教育", scope=None,
                      as_of=AS_OF, user="u", columns=["出生日期", "姓名"])
    assert read_csv(r.path)[0] == ["姓名", "出生日期"]


def test_unknown_department_extract_and_date_are_explained(conn, tmp_path):
    import datetime as dt

    with pytest.raises(GrantRefused, match="不在部门登记表"):
        write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "a.csv", dept="税务", scope=None, as_of=AS_OF, user="u")
    with pytest.raises(GrantRefused, match="没有名为"):
        write_extract(conn, "everyone", home=tmp_path, fmt="csv", out=tmp_path / "a.csv", dept=None, scope=None, as_of=AS_OF, user="u")
    with pytest.raises(NotAvailable, match="2025-01-01"):
        write_extract(conn, "grid-population", home=tmp_path, fmt="csv", out=tmp_path / "a.csv", dept=None, scope=None,
                      as_of=dt.date(2025, 1, 1), user="u")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_same_as_of_gives_same_bytes_and_an_audit_record(conn, tmp_path, fmt):
    a = write_extract(conn, "assistance-check", home=tmp_path, fmt=fmt, out=tmp_path / f"a.{fmt}", dept="民政", scope=None,
                      as_of=AS_OF, user="u1")
    b = write_extract(conn, "assistance-check", home=tmp_path, fmt=fmt, out=tmp_path / f"b.{fmt}", dept="民政", scope=None,
                      as_of=AS_OF, user="u1")
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.sha256 == hashlib.sha256(a.path.read_bytes()).hexdigest()
    # the handout is recorded in the home's database, not in the store (which may be opened read-only)
    rows = [(h["user_name"], h["department"], h["name"], h["scope"], h["as_of"], h["row_count"], h["file_sha256"],
             h["format"]) for h in handouts(tmp_path, dt.datetime(2000, 1, 1)) if h["file_path"] == str(a.path)]
    assert rows == [("u1", "民政", "assistance-check", "全库", AS_OF.isoformat(), 3, a.sha256, fmt)]
    if fmt != "xlsx":
        assert a.dictionary_path.read_bytes() == b.dictionary_path.read_bytes()
        assert "公民身份号码" in a.dictionary_path.read_text(encoding="utf-8-sig")


def test_xlsx_extract_has_headers_dictionary_and_masking(conn, tmp_path):
    r = write_extract(conn, "assistance-check", home=tmp_path, fmt="xlsx", out=tmp_path / "a.xlsx", dept=None, scope=None,
                      as_of=AS_OF, user="u")
    wb = openpyxl.load_workbook(r.path)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [c.name for c in REG.extracts["assistance-check"].columns]
    assert ws.freeze_panes == "A2"
    ids = [row[1] for row in rows[1:]]
    assert ids and all(ID_MASKED.match(v) for v in ids)
    assert sum(row[4] for row in rows[1:]) == pytest.approx(2650.50)
    assert "数据字典" in wb.sheetnames
    dict_rows = list(wb["数据字典"].iter_rows(values_only=True))
    assert dict_rows[0] == ("列名", "类型", "说明", "脱敏")
    assert ("公民身份号码", "文本") == dict_rows[2][:2] and dict_rows[2][3] == "前6后4"     # types as a clerk reads them
    assert wb.properties.modified.date() == AS_OF


def test_parquet_schema_is_fixed(conn, tmp_path):
    r = write_extract(conn, "grid-population", home=tmp_path, fmt="parquet", out=tmp_path / "g.parquet", dept=None, scope=None,
                      as_of=AS_OF, user="u")
    schema = pq.read_schema(r.path)
    assert schema.names[:4] == ["区县代码", "街道代码", "社区代码", "网格编码"]
    assert str(schema.field("实有人口").type) == "int64"
    assert pq.read_table(r.path).num_rows == 4


def test_streamed_parquet_and_csv_do_not_depend_on_batch_sizes(tmp_path, monkeypatch):
    """Extracts are streamed in batches; the same rows must give the same bytes however DuckDB
    chunks them, across several row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.publish import writers

    monkeypatch.setattr(writers, "PARQUET_ROW_GROUP", 1000)
    table = pa.table({"人员主键": [f"P{i:06d}" for i in range(2500)], "n": list(range(2500))})
    outputs = []
    for size in (7, 999, 4096):
        reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=size))
        pq_path, csv_path = tmp_path / f"{size}.parquet", tmp_path / f"{size}.csv"
        assert writers.write_parquet(reader, pq_path, [{"列名": "n", "类型": "INTEGER", "说明": "", "脱敏": ""}]) == 2500
        assert writers.write_csv(pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=size)),
                                 csv_path) == 2500
        outputs.append((pq_path.read_bytes(), csv_path.read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]
    meta = pq.ParquetFile(tmp_path / "7.parquet")
    assert meta.metadata.num_row_groups == 3
    assert meta.read().equals(table.replace_schema_metadata(meta.schema_arrow.metadata))
    assert (tmp_path / "7.csv").read_text(encoding="utf-8-sig").splitlines()[:2] == ['"人员主键","n"', '"P000000",0']


def test_empty_streamed_extract_still_has_its_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.publish import writers

    schema = pa.schema([("网格编码", pa.string())])
    assert writers.write_parquet(pa.RecordBatchReader.from_batches(schema, []), tmp_path / "e.parquet", []) == 0
    assert pq.read_table(tmp_path / "e.parquet").schema.names == ["网格编码"]
    assert writers.write_csv(pa.RecordBatchReader.from_batches(schema, []), tmp_path / "e.csv") == 0
    assert (tmp_path / "e.csv").read_text(encoding="utf-8-sig") == '"网格编码"\n'


@pytest.mark.slow   # every extract twice: from the per-version tables and from the views
def test_the_versions_extract_tables_give_the_same_files(conn, tmp_path):
    """A store version keeps every extract's rows (materialize_extracts, built with the version): a file written from
    them is byte-identical to one written through the as-of preparation, for every extract, format and grant."""
    from pipelines.publish.extracts import _materialized, extract_file, materialize_extracts

    cases = [(name, fmt, dept, scope) for name in REG.extracts for fmt in ("csv", "xlsx", "parquet")
             for dept, scope in ((None, None), ("民政", "S1"), ("社区", "C1"))
             if dept is None or name in REG.departments[dept].extracts]

    def files(tag):
        out = {}
        for name, fmt, dept, scope in cases:
            r = extract_file(conn, name, fmt=fmt, out=tmp_path / tag / f"{name}-{dept}.{fmt}", dept=dept, scope=scope,
                             as_of=AS_OF, user="steward")
            out[(name, fmt, dept)] = r.path.read_bytes()
        return out

    before = files("view")
    conn.execute("BEGIN")
    try:
        counts = materialize_extracts(conn, AS_OF)
        assert counts["grid-population"] == 4 and _materialized(conn, "grid-population", AS_OF)
        assert _materialized(conn, "grid-population", dt.date(2025, 1, 1)) is None    # another date: not these
        after = files("table")
    finally:
        conn.execute("ROLLBACK")
    assert after == before and len(before) > 20


def test_address_matches_follow_the_contract(conn, tmp_path):
    """Contract §3: one row per source row with a free-text address, in the contract's columns and words."""
    write_extract(conn, "address-matches", home=tmp_path, fmt="csv", out=tmp_path / "a.csv", dept=None, scope=None,
                  as_of=AS_OF, user="u")
    header, rows = read_csv(tmp_path / "a.csv")
    assert header == ["来源", "记录编号", "地址", "匹配结果", "房屋编码", "候选房屋编码", "依据"]
    got = {r[1]: r for r in rows}
    assert set(got) == {"F-001", "F-002", "HK-2", "JZ-9", "HK-3"}
    assert got["F-001"][3:] == ["已匹配", "H1", "", "小区“锦苑小区”、门牌“草堂路1号”、1栋、1单元、101室，唯一对应此房屋"]
    assert got["F-002"][3:] == ["已匹配", "H2", "", "本记录填写的房屋编码 H2 在实有房屋中"]
    assert got["JZ-9"][3:6] == ["多个候选", "", "H1;H2"] and "无法确定" in got["JZ-9"][6]
    assert got["HK-3"][3:] == ["未匹配", "", "", "“同上”不是地址，请填写实际居住地址"]
    # a community sees its own rows: matched there, or all of whose candidates lie there
    write_extract(conn, "address-matches", home=tmp_path, fmt="csv", out=tmp_path / "c.csv", dept="社区",
                  scope="金沙社区", as_of=AS_OF, user="u")
    assert sorted(r[1] for r in read_csv(tmp_path / "c.csv")[1]) == ["F-001", "F-002", "JZ-9"]
