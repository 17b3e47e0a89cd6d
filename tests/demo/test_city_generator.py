"""The demo city: several streets side by side in one inbox, nothing any store could take for a key shared
between two streets, truth appended street by street, and one more street added to an existing inbox."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.demo import generate
from pipelines.demo import vocab as V
from pipelines.demo.generate import PREFIX
from pipelines.demo.streets import street
from pipelines.demo.world import _Gen
from pipelines.sources import load_catalog, normalize_header
from tests.demo.demo_files import inbox_files, read_table

# a city of three streets generated and read back: `make test` and CI, not the fast loop
pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 10, 31)
STREET_MAX = 3000
PERSONS = 7000           # three streets of 2,334 / 2,333 / 2,333
STREETS = [street(s) for s in range(3)]


def _street_of(path: Path) -> int:
    """Street index of a file: street 0 keeps today's names, the others start with their street's name."""
    hits = [s.index for s in STREETS[1:] if path.name.startswith(s.file_prefix)]
    assert len(hits) <= 1, path
    return hits[0] if hits else 0


def _table(path: Path) -> pl.DataFrame:
    """A demo file as text, headers mapped to the contract's field names (files use aliases)."""
    index = load_catalog()[path.parent.name].header_index()
    _, df = read_table(path, drop_total_rows=True)
    return df.rename({c: index[normalize_header(c)].name for c in df.columns})


def _column(paths: list[Path], field: str) -> pl.DataFrame:
    """One field of every file that has it, with the file's street."""
    parts = [pl.DataFrame({"v": df[field], "street": _street_of(p)}, schema={"v": pl.String, "street": pl.Int64})
             for p in paths if field in (df := _table(p)).columns]
    assert parts, field
    return pl.concat(parts)


def _shared_between_streets(df: pl.DataFrame) -> list[str]:
    return (df.drop_nulls("v").unique().group_by("v").agg(pl.col("street").n_unique().alias("n"))
            .filter(pl.col("n") > 1)["v"].to_list())


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    base = tmp_path_factory.mktemp("city")
    summary = generate(base / "inbox", base / "truth", persons=PERSONS, seed=7, as_of=AS_OF, street_max=STREET_MAX)
    return base / "inbox", base / "truth", summary


def test_city_has_three_streets_in_one_tree(city):
    inbox, _, summary = city
    assert summary["streets"] == 3
    files = inbox_files(inbox)
    assert {p.parent.name for p in files} == {"grids", "housing", "residents", "visits", "hukou", "floating",
                                              "assistance", "deaths", "disability"}
    assert len(files) == summary["files"]           # no street overwrote another's file
    per = pl.Series([_street_of(p) for p in files]).value_counts().sort("")
    assert per[""].to_list() == [0, 1, 2] and per["count"].min() >= 25
    grids = _column([p for p in files if p.parent.name == "grids"], "街道代码")
    assert grids.unique().sort("street")["v"].to_list() == [s.code for s in STREETS]


def test_codes_and_names_never_shared_between_streets(city):
    inbox, _, summary = city
    files = inbox_files(inbox)
    grid_files = [p for p in files if p.parent.name == "grids"]
    for field in ("社区代码", "社区名称", "网格编码", "网格名称"):
        assert not _shared_between_streets(_column(grid_files, field)), field
    micro = _column(grid_files, "微网格编码")
    assert micro["v"].is_unique().all()
    housing = [p for p in files if p.parent.name == "housing"]
    houses = _column(housing, "房屋编码")
    assert houses["v"].is_unique().all() and houses.height == summary["houses"]
    assert not _shared_between_streets(_column(housing, "小区(院落)"))
    assert not _shared_between_streets(_column(housing, "标准地址"))
    # Every house a person row names exists in housing: codes were not remapped by another street.
    res = _column([p for p in files if p.parent.name == "residents"], "房屋编码")
    assert set(res["v"].drop_nulls()) <= set(houses["v"])


def test_record_numbers_unique_per_template_across_streets(city):
    inbox, _, _ = city
    for template in PREFIX:
        rec = _column([p for p in inbox_files(inbox) if p.parent.name == template], "记录编号")
        rec = rec.drop_nulls("v")
        # The 残疾人补充名单 repeats rows of the street's own 持证残疾人名册 (a supplement), never another street's.
        dup = rec.filter(pl.col("v").is_duplicated())
        assert dup.group_by("v").agg(pl.col("street").n_unique().alias("n"))["n"].max() in (None, 1), template
        if template != "disability":
            assert dup.is_empty(), template
        assert rec["street"].n_unique() == 3, template


def test_each_human_one_id_and_no_id_shared_across_the_city(city):
    _, truth, summary = city
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False)
    assert persons.height == summary["persons"]
    assert persons["human_id"].is_unique().all()
    ids = persons["公民身份号码"].drop_nulls()
    assert ids.is_unique().all() and len(ids) > 0.95 * persons.height
    street_of_human = persons["human_id"].str.extract(r"^S(\d{3})P", 1).cast(pl.Int64).fill_null(0)
    assert street_of_human.unique().sort().to_list() == [0, 1, 2]


def test_ids_avoid_the_bodies_other_streets_hold():
    def bodies(taken):
        gen = _Gen(2334, [7, 1], AS_OF, street(1), taken)
        gen.grids()
        gen.people()
        return gen.humans["_body"].to_numpy()

    first = bodies(None)
    # Same seed, so every body is drawn again first and must be redrawn off the taken ones.
    again = bodies(np.unique(first))
    assert len(np.unique(again)) == len(again) and not np.isin(again, first).any()
    assert (again // 1000 == first // 1000).all() and (again % 2 == first % 2).all()  # region, birth, sex kept


def test_truth_is_appended_and_adds_up(city):
    inbox, truth, summary = city
    grids = pl.read_csv(truth / "grids.csv", schema_overrides={"网格编码": pl.String})
    assert grids.height == summary["grids"] and grids["网格编码"].is_unique().all()
    assert int(grids["实有人口"].sum()) == summary["实有人口"] == summary["status"]["在住"]
    assert int(grids["登记人口"].sum()) == summary["登记人口"]
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False)
    assert dict(persons.group_by("状态").len().iter_rows()) == summary["status"]
    assert sum(summary["status"].values()) == summary["persons"]
    checks = pl.read_csv(truth / "assistance_check.csv", infer_schema=False)
    assert checks.height == summary["assistance_check"] and checks["记录编号"].is_unique().all()
    records = pl.read_csv(truth / "records.csv", infer_schema=False)
    assert set(records["文件"]) <= {f"{p.parent.name}/{p.name}" for p in inbox_files(inbox)}
    per_file = records.group_by("文件").len()
    streets = pl.Series([_street_of(Path(f)) for f in per_file["文件"]])
    assert streets.n_unique() == 3
    # Rows per template: everything written; the disability supplement repeats 20 rows of each street.
    got = dict(records.group_by("来源").len().iter_rows())
    want = {t: n + (3 * 20 if t == "disability" else 0) for t, n in summary["rows"].items()}
    assert got == want


def test_street_zero_of_a_city_is_the_demo_of_its_size(city, tmp_path):
    inbox, _, _ = city
    generate(tmp_path / "inbox", tmp_path / "truth", persons=2334, seed=7, as_of=AS_OF)
    alone = {p.relative_to(tmp_path / "inbox"): p.read_bytes() for p in inbox_files(tmp_path / "inbox")}
    in_city = {p.relative_to(inbox): p.read_bytes() for p in inbox_files(inbox) if _street_of(p) == 0}
    assert alone == in_city


def test_one_more_street_leaves_existing_files_alone(tmp_path):
    inbox, truth = tmp_path / "inbox", tmp_path / "truth"
    generate(inbox, truth, persons=2500, seed=3, as_of=AS_OF)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox_files(inbox)}
    truth_before = {n: (truth / n).read_bytes() for n in ("records.csv", "grids.csv", "persons.csv")}

    s90 = street(90)
    summary = generate(inbox, truth, persons=1000, seed=3, as_of=AS_OF, street_index=90)
    after = inbox_files(inbox)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before} == before
    new = [p for p in after if p not in before]
    assert len(new) == summary["files"] and all(p.name.startswith(s90.file_prefix) for p in new)
    for name, old in truth_before.items():
        assert (truth / name).read_bytes().startswith(old)       # appended, never rewritten
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False)
    assert persons["human_id"].is_unique().all() and persons["公民身份号码"].drop_nulls().is_unique().all()
    assert persons["human_id"].str.starts_with(s90.human_prefix).sum() == summary["persons"]
    grids = _column([p for p in after if p.parent.name == "grids"], "网格编码")
    assert not _shared_between_streets(grids)

    with pytest.raises(FileExistsError):
        generate(inbox, truth, persons=1000, seed=3, as_of=AS_OF, street_index=90)


def test_street_vocabulary_stays_unique_for_many_streets():
    streets = [street(s) for s in range(300)]
    for attr in ("name", "code", "compound_prefix", "human_prefix", "record_infix", "house_base"):
        values = [getattr(s, attr) for s in streets]
        assert len(set(values)) == len(values), attr
    for attr in ("communities", "police_stations", "roads", "workplaces"):
        values = [v for s in streets for v in getattr(s, attr)]
        assert len(set(values)) == len(values), attr
    assert all(re.fullmatch(r"5101\d{5}", s.code) for s in streets)
    assert streets[0].name == V.STREET and streets[0].code == V.STREET_CODE
    # An address parser reads 省市州盟区县街镇乡 as divisions; a root that starts another would alias roads.
    roots = [s.compound_prefix for s in streets[1:]]
    assert not any(re.search("[省市州盟区县街镇乡]", r) for r in roots)
    first = roots[:len(V.STREET_STEMS)]       # later generations add 新城, which no road suffix starts with
    assert not any(a != b and b.startswith(a) for a in first for b in first)
    assert not any(r.startswith(x) for r in first for x in ("玉林", "芳草", "倪家桥", "黉门", "簇桥"))
    with pytest.raises(ValueError):
        street(1000)


def test_the_store_meets_its_targets_on_a_city(city, tmp_path):
    """The real pipeline over three streets: nothing merges across streets, every target holds."""
    import dagster as dg

    from pipelines.demo import check, format_check
    from pipelines.runner import run_pipeline
    from pipelines.store import Store

    inbox, truth, _ = city
    home = tmp_path / "home"
    run = run_pipeline(home=home, inbox=inbox, as_of=AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert run.success, run.error
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        frames = {name: conn.sql(f"SELECT * FROM marts.{name}").pl()
                  for name in ("person_sources", "grid_population", "assistance_check")}
    result = check(inbox, truth, **frames)
    assert result["passed"], format_check(result)
    assert result["linkage"]["rows_unknown_to_truth"] == 0
