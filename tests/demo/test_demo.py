"""The demo street: reproducible files, the contract's templates, the Jianye pattern, and the checker's arithmetic."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.demo import check, format_check, generate
from pipelines.demo.check import linkage_scores
from pipelines.sources import TEMPLATE_ORDER, normalize_header
from tests.demo.demo_files import inbox_files, read_table

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The default-size street (20,000 persons), generated once for this module."""
    base = tmp_path_factory.mktemp("demo")
    summary = generate(base / "inbox", base / "truth", persons=20000, seed=7, as_of=AS_OF)
    return base / "inbox", base / "truth", summary


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    digests = []
    for run, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate(tmp_path / run / "inbox", tmp_path / run / "truth", persons=2500, seed=seed, as_of=AS_OF)
        digests.append({str(p.relative_to(tmp_path / run)): hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in inbox_files(tmp_path / run)})
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_nine_templates_with_their_headers(demo, catalog):
    inbox, _, _ = demo
    assert sorted(p.name for p in inbox.iterdir()) == sorted(TEMPLATE_ORDER)
    id_headers = set()
    for path in inbox_files(inbox):
        template = catalog[path.parent.name]
        index = template.header_index()
        header, _ = read_table(path)
        fields = {index[normalize_header(h)].name for h in header}   # KeyError: a header no template knows
        missing = {f.name for f in template.required} - fields
        if path.name == "残疾人补充名单.csv":
            assert missing == {"姓名"}      # the file the loader must refuse whole
        else:
            assert not missing, (path, missing)
        id_headers |= {h for h in header if index[normalize_header(h)].column == "id_number"}
    assert {"身份证号", "公民身份号码"} <= id_headers
    kinds = {(p.suffix, p.read_bytes()[:3]) for p in inbox_files(inbox)}
    assert (".csv", b"\xef\xbb\xbf") in kinds                  # UTF-8 with BOM
    gbk = [p for p in inbox_files(inbox) if p.suffix == ".csv" and _not_utf8(p)]
    assert gbk, "some CSV must be GBK/GB18030"


def _not_utf8(p: Path) -> bool:
    try:
        p.read_bytes().decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def test_workbooks_have_title_rows_totals_dates_and_a_mangled_id(demo):
    inbox, truth, _ = demo
    book = inbox / "residents" / "芳草社区第1微网格实有人口补录.xlsx"
    ws = openpyxl.load_workbook(book).active
    assert ws.cell(1, 1).value.endswith("实有人口采集表")
    assert ws.cell(3, 1).value is None
    assert ws.cell(ws.max_row, 1).value == "合计"
    numeric = [c.value for row in ws.iter_rows(min_row=5) for c in row if isinstance(c.value, float)]
    assert len(numeric) == 1 and numeric[0] > 1e17
    # Row numbers in the truth are the sheet's own rows: data rows only, never the header or 合计.
    rows = pl.read_csv(truth / "records.csv", infer_schema=False).filter(
        pl.col("文件") == "residents/芳草社区第1微网格实有人口补录.xlsx")["行号"].cast(int).to_list()
    assert min(rows) == 5 and max(rows) == ws.max_row - 1
    housing = next((inbox / "housing").glob("*.xlsx"))
    dated = [c.value for row in openpyxl.load_workbook(housing).active.iter_rows() for c in row
             if isinstance(c.value, dt.datetime)]
    assert dated


def test_csv_row_numbers_follow_the_clerk_convention(demo):
    inbox, truth, _ = demo
    rec = pl.read_csv(truth / "records.csv", infer_schema=False).with_columns(pl.col("行号").cast(int))
    for path in inbox_files(inbox):
        if path.suffix != ".csv" or path.parent.name in ("grids", "housing"):
            continue
        _, df = read_table(path)
        mine = rec.filter(pl.col("文件") == f"{path.parent.name}/{path.name}")["行号"].sort().to_list()
        assert mine == list(range(2, df.height + 2)), path


def test_jianye_pattern_in_default_street(demo):
    _, truth, summary = demo
    grids = pl.read_csv(truth / "grids.csv", schema_overrides={"网格编码": pl.String})
    jianye = grids.filter(pl.col("over_1500_on_record") & ~pl.col("over_1500_verified"))
    assert jianye.height >= 2
    assert grids.filter(pl.col("over_1500_verified")).height >= 2
    # Clear margins, so a store's small linkage errors cannot flip a grid across 1,500.
    assert (jianye["登记人口"] >= 1550).all() and (jianye["实有人口"] <= 1460).all()
    assert grids.filter(pl.col("网格类型") == "专属网格").height >= 1
    assert summary["status"]["在住"] == grids["实有人口"].sum()


def test_truth_follows_the_rules_and_holds_the_hard_cases(demo):
    inbox, truth, _ = demo
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False)
    assert set(persons["状态"]) == {"在住", "已离开", "死亡", "待核实"}
    assert persons["人员类别"].null_count() == 0
    # Different humans, same name and birth date, different flats.
    twins = (persons.filter(pl.col("公民身份号码").is_not_null())
             .group_by("姓名", "出生日期").agg(pl.len(), pl.col("房屋编码").n_unique().alias("flats"))
             .filter((pl.col("len") >= 2) & (pl.col("flats") >= 2)))
    assert twins.filter(pl.col("姓名") == "张伟").height >= 1
    checks = pl.read_csv(truth / "assistance_check.csv", infer_schema=False)
    assert set(checks["状态"]) == {"死亡", "已离开", "待核实"}


def test_messy_rows_exist_but_stay_a_few_percent(demo):
    inbox, _, _ = demo
    ids = []
    for path in inbox_files(inbox):
        if path.parent.name in ("grids", "housing"):
            continue
        header, df = read_table(path)
        col = next((h for h in header if h in ("公民身份号码", "身份证号", "身份证号码", "身份证")), None)
        if col:
            ids.extend(str(v) for v in df[col].to_list() if v is not None)
    s = pl.Series(ids)
    plain = s.str.contains(r"^\d{17}[\dX]$")
    assert s.str.contains(r"^\d{15}$").sum() > 0                  # legacy 15-digit numbers
    assert s.str.contains("[０-９]").sum() > 0                      # full-width digits
    assert s.str.contains(" ").sum() > 0                           # spaced
    assert s.str.ends_with("x").sum() > 0                          # lower-case x
    bad_check = sum(not _check_ok(v) for v in s.filter(plain).to_list())
    assert bad_check > 0                                           # typos and transpositions
    assert (len(s) - plain.sum() + bad_check) / len(s) < 0.05


def _check_ok(idn: str) -> bool:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * x for c, x in zip(idn[:17], w)) % 11] == idn[17]


def _perfect_outputs(inbox: Path, truth: Path):
    """What a perfect store would extract, built from the truth itself."""
    rec = pl.read_csv(truth / "records.csv", infer_schema=False)
    sha = {f: hashlib.sha256((inbox / f).read_bytes()).hexdigest() for f in rec["文件"].unique().to_list()}
    ps = rec.with_columns(批次=pl.col("文件").replace_strict(sha), 行号=pl.col("行号").cast(int),
                          人员主键=pl.col("human_id")).select("人员主键", "来源", "批次", "行号")
    gp = pl.read_csv(truth / "grids.csv", schema_overrides={"网格编码": pl.String})
    ac = pl.read_csv(truth / "assistance_check.csv", infer_schema=False)
    return ps, gp, ac


def test_checker_passes_the_truth_itself(demo):
    inbox, truth, _ = demo
    ps, gp, ac = _perfect_outputs(inbox, truth)
    result = check(inbox, truth, person_sources=ps, grid_population=gp, assistance_check=ac)
    assert result["passed"], format_check(result)
    assert result["linkage"]["precision"] == 1.0 and result["linkage"]["recall"] == 1.0
    text = format_check(result)
    assert "PASS" in text and "FAIL" not in text
    # A store that never processes visits or staleness: 登记人口 as 实有人口 loses the Jianye grids.
    naive = gp.with_columns(实有人口=pl.col("登记人口"))
    bad = check(inbox, truth, person_sources=ps, grid_population=naive, assistance_check=ac.head(0))
    assert not bad["targets"]["over_1500_verified"] and not bad["targets"]["assistance_f1"]
    assert not bad["passed"] and "FAIL" in format_check(bad)


def _rows(pairs):
    return pl.DataFrame(pairs, schema=["person_key", "human_id"], orient="row")


def test_linkage_pairs_perfect_wrong_merge_missed_link():
    truth = [("a", "h1"), ("a", "h1"), ("a", "h1"), ("b", "h2"), ("b", "h2"), ("c", "h3"), (None, "")]
    s = linkage_scores(_rows(truth))
    assert (s["pairs_true"], s["pairs_predicted"], s["precision"], s["recall"]) == (4, 4, 1.0, 1.0)

    merged = [("a", "h1"), ("a", "h1"), ("a", "h1"), ("a", "h2"), ("a", "h2"), ("c", "h3"), (None, "")]
    s = linkage_scores(_rows(merged))      # h1 and h2 wrongly joined: 10 predicted pairs, 4 right
    assert (s["pairs_predicted"], s["pairs_correct"]) == (10, 4)
    assert s["precision"] == pytest.approx(0.4) and s["recall"] == 1.0

    missed = [("a", "h1"), ("a", "h1"), (None, "h1"), ("b", "h2"), ("b", "h2"), ("c", "h3"), ("", "")]
    s = linkage_scores(_rows(missed))      # one row of h1 left unlinked: loses 2 of 4 true pairs
    assert (s["pairs_true"], s["pairs_correct"]) == (4, 2)
    assert s["precision"] == 1.0 and s["recall"] == pytest.approx(0.5)

    # Two rows with no human that a store joins are a wrong pair, not a right one.
    s = linkage_scores(_rows([("z", ""), ("z", ""), ("a", "h1"), ("a", "h1")]))
    assert (s["pairs_predicted"], s["pairs_correct"]) == (2, 1)


def test_check_on_a_hand_built_truth(tmp_path):
    inbox, truth = tmp_path / "inbox", tmp_path / "truth"
    (inbox / "residents").mkdir(parents=True)
    truth.mkdir()
    (inbox / "residents" / "a.csv").write_text("姓名,房屋编码,人员类别,采集日期\n甲,1,户籍,2026-01-01\n"
                                               "甲,1,户籍,2026-02-01\n乙,2,户籍,2026-01-01\n", encoding="utf-8")
    sha = hashlib.sha256((inbox / "residents" / "a.csv").read_bytes()).hexdigest()
    pl.DataFrame({"来源": ["residents"] * 3, "文件": ["residents/a.csv"] * 3, "行号": [2, 3, 4],
                  "human_id": ["h1", "h1", "h2"]}).write_csv(truth / "records.csv")
    pl.DataFrame({"网格编码": ["g1", "g2"], "实有人口": [1600, 100], "登记人口": [1700, 1501]}).write_csv(
        truth / "grids.csv")
    pl.DataFrame({"记录编号": ["J1", "J2"]}).write_csv(truth / "assistance_check.csv")
    ps = pl.DataFrame({"人员主键": ["k1", "k2", "k2"], "来源": ["residents"] * 3, "批次": [sha] * 3,
                       "行号": [2, 3, 4], "记录编号": [None] * 3, "状态": ["在住"] * 3})
    gp = pl.DataFrame({"区县代码": ["510107"] * 2, "网格编码": ["g1", "g2"], "实有人口": [1590, 100],
                       "登记人口": [1700, 1400]})
    ac = pl.DataFrame({"记录编号": ["J1", "J3"]})
    r = check(inbox, truth, person_sources=ps, grid_population=gp, assistance_check=ac)
    assert r["linkage"]["precision"] == 0.0 and r["linkage"]["recall"] == 0.0
    assert r["grids"]["实有人口_error"] == pytest.approx(10 / 1700)
    assert r["grids"]["登记人口_error"] == pytest.approx(101 / 3201)
    assert r["targets"]["over_1500_verified"] and not r["targets"]["over_1500_on_record"]
    assert r["grids"]["over_1500_on_record_missing"] == ["g2"]
    assert r["assistance"]["f1"] == pytest.approx(0.5)
    assert re.search(r"救助核查 F1.*FAIL", format_check(r))
