"""Partition by district (docs/scale-out.md, step 1): a city's inbox split into district folders, each
district built by the real graph into its own DuckDB file, two partitions at a time (each run of the
Dagster job in a process of its own), or one after another in the command's process; a broken district
fails alone."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil

import dagster as dg
import polars as pl
import pytest

from pipelines import demo
from pipelines.cli import main as cli
from pipelines.demo.check import TARGETS, _sha256, grid_scores, linkage_scores
from pipelines.demo.streets import street
from pipelines.districts import discover, district_partitions, district_sensor, district_store
from pipelines.resources import RunSettings
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)
# Two streets, each the smallest the generator makes (8 grids, ~10,000 humans), in 武侯区 and 锦江区.
STREETS = [street(0), street(1)]
BROKEN = "510100"


def test_discovery_keeps_district_folders_and_says_why_it_skips_the_rest(tmp_path):
    inbox = tmp_path / "inbox"
    for rel in ("510107/grids", "510107/residents", "510104/housing", "510105/notes", "grids",
                "abc/grids", "5101070/grids", ".cache/grids"):
        (inbox / rel).mkdir(parents=True)
    (inbox / "510106").write_text("a file, not a folder")

    codes, skipped = discover(inbox)
    assert codes == ["510104", "510107"]
    reasons = dict(skipped)
    assert set(reasons) == {"510105", "grids", "abc", "5101070"}
    assert "没有任何采集模板文件夹" in reasons["510105"]
    assert "是采集模板文件夹" in reasons["grids"] and "收件箱/<区县代码>/<模板>/" in reasons["grids"]
    assert reasons["abc"] == reasons["5101070"] == "文件夹名不是6位区县代码"
    assert discover(tmp_path / "missing") == ([], [])


@pytest.mark.slow   # Dagster runs per district
def test_sensor_adds_new_districts_and_reruns_only_the_changed_one(tmp_path):
    inbox = tmp_path / "inbox"
    for code in ("510104", "510107"):
        (inbox / code / "grids").mkdir(parents=True)
        (inbox / code / "grids" / "网格划分表.csv").write_text("x\n", encoding="utf-8")
    settings = RunSettings(home=str(tmp_path / "home"), inbox=str(inbox), as_of=AS_OF.isoformat())
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"settings": settings})
        first = district_sensor(context)
        assert [r.partition_key for r in first.run_requests] == ["510104", "510107"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["510104", "510107"]
        instance.add_dynamic_partitions(district_partitions.name, ["510104", "510107"])

        (inbox / "510107" / "grids" / "网格划分表.csv").write_text("x,y\n", encoding="utf-8")
        again = district_sensor(dg.build_sensor_context(instance=instance, resources={"settings": settings},
                                                        cursor=first.cursor))
        assert [r.partition_key for r in again.run_requests] == ["510107"]
        assert not again.dynamic_partitions_requests
        quiet = district_sensor(dg.build_sensor_context(instance=instance, resources={"settings": settings},
                                                        cursor=again.cursor))
        assert isinstance(quiet, dg.SkipReason)


@pytest.mark.slow   # the whole graph per district and once for all of them
def test_by_district_moves_each_street_under_its_district_and_changes_no_byte(tmp_path):
    flat = demo.generate(tmp_path / "flat" / "inbox", tmp_path / "flat" / "truth", persons=2000, seed=7, as_of=AS_OF,
                         street_max=1000)
    split = demo.generate(tmp_path / "split" / "inbox", tmp_path / "split" / "truth", persons=2000, seed=7, as_of=AS_OF,
                          street_max=1000, by_district=True)
    assert split == flat

    def files(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    before, after = files(tmp_path / "flat" / "inbox"), files(tmp_path / "split" / "inbox")
    moved = {}
    for rel in before:
        st = next((s for s in STREETS[1:] if rel.split("/")[1].startswith(s.file_prefix)), STREETS[0])
        moved[f"{st.district_code}/{rel}"] = before[rel]
    assert after == moved
    # One truth for the city; its 文件 name the files where they now are.
    flat_truth, split_truth = files(tmp_path / "flat" / "truth"), files(tmp_path / "split" / "truth")
    assert flat_truth.keys() == split_truth.keys()
    assert all(flat_truth[n] == split_truth[n] for n in flat_truth if n != "records.csv")
    records = pl.read_csv(tmp_path / "split" / "truth" / "records.csv", infer_schema=False)
    assert set(records["文件"]) <= set(after)


@pytest.mark.slow
def test_each_district_builds_its_own_store_in_parallel(tmp_path, monkeypatch, capsys):
    inbox, truth, home = tmp_path / "inbox", tmp_path / "truth", tmp_path / "home"
    summary = demo.generate(inbox, truth, persons=2000, seed=7, as_of=AS_OF, street_max=1000, by_district=True)
    assert summary["streets"] == 2
    codes = sorted(s.district_code for s in STREETS)
    assert sorted(p.name for p in inbox.iterdir()) == codes
    # A district whose store is not a DuckDB file fails; the others must not notice.
    (inbox / BROKEN / "grids").mkdir(parents=True)
    (home / "districts" / BROKEN).mkdir(parents=True)
    (home / "districts" / BROKEN / "store.duckdb").write_text("not a database")

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    code = cli(["run", "--by-district", "--parallel", "2", "--home", str(home), "--inbox", str(inbox),
                "--as-of", AS_OF.isoformat()])
    out, err = capsys.readouterr()
    print(out)
    assert code == 1 and f"失败的区县：{BROKEN}" in err
    lines = {m[1]: line for line in out.splitlines() if (m := re.match(r"  [✓✗] (\d{6})", line))}
    assert set(lines) == {BROKEN, *codes}
    assert lines[BROKEN].startswith("  ✗") and "not a valid DuckDB database" in lines[BROKEN]
    assert "510107 武侯区" in lines["510107"] and "成功" in lines["510107"]

    # The runs are in the instance (what the UI shows): one per partition, two of them at the same time.
    instance = dg.DagsterInstance.get()
    runs = instance.get_run_records(dg.RunsFilter(job_name="district_job"))
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in runs) == sorted([BROKEN, *codes])
    spans = sorted((r.start_time, r.end_time) for r in runs)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), "no two partitions ran at the same time"
    done = {m.partition: m.metadata for m in (r.event_log_entry.asset_materialization
                                              for r in instance.fetch_materializations(district_store.key, limit=10).records)}
    assert set(done) == set(codes)
    instance.dispose()

    truth_persons = pl.read_csv(truth / "persons.csv", infer_schema=False)
    truth_grids = pl.read_csv(truth / "grids.csv", schema_overrides={"网格编码": pl.String})
    records = pl.read_csv(truth / "records.csv", schema_overrides={"human_id": pl.String, "行号": pl.Int64})
    batch_of = {f: _sha256(inbox / f) for f in records["文件"].unique().to_list()}
    truth_rows = records.with_columns(批次=pl.col("文件").replace_strict(batch_of),
                                      human_id=pl.col("human_id").fill_null(""))
    seen_grids: list[str] = []
    for st in STREETS:
        path = home / "districts" / st.district_code / "store.duckdb"
        assert path.exists() and done[st.district_code]["store"].value == str(path)
        with Store(path).connect(read_only=True, macros=False) as conn:
            districts = conn.execute("SELECT DISTINCT district_code FROM core.grids").fetchall()
            grid_pop = conn.sql("SELECT * FROM marts.grid_population").pl()
            rows = conn.sql("SELECT CAST(人员主键 AS VARCHAR) AS 人员主键, CAST(来源 AS VARCHAR) AS 来源, "
                            "CAST(批次 AS VARCHAR) AS 批次, CAST(行号 AS BIGINT) AS 行号 FROM marts.person_sources").pl()
            persons = conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0]
        assert districts == [(st.district_code,)]
        assert done[st.district_code]["persons"].value == persons > 0
        # Every source row of the store is a row of this district's files, of a human of its street;
        # and the district's persons are merged as well as the one-store pipeline merges them.
        linked = rows.join(truth_rows, left_on=["来源", "批次", "行号"], right_on=["来源", "批次", "行号"], how="left")
        assert linked["human_id"].null_count() == 0
        assert linked["文件"].str.starts_with(st.district_code + "/").all()
        humans = linked.filter(pl.col("human_id") != "")["human_id"]
        assert humans.len() > 0 and humans.str.starts_with(st.human_prefix).all()
        link = linkage_scores(linked.select(pl.col("人员主键").alias("person_key"), "human_id"))
        assert link["precision"] >= TARGETS["precision"] and link["recall"] >= TARGETS["recall"], link
        # 实有人口 per grid within the accuracy check's tolerance, against the truth of this district's grids.
        mine = grid_pop["网格编码"].cast(pl.String).to_list()
        seen_grids += mine
        scores = grid_scores(grid_pop, truth_grids.filter(pl.col("网格编码").is_in(mine)))
        assert scores["实有人口_error"] <= TARGETS["grid_error"], scores
        want = truth_persons.filter((pl.col("状态") == "在住") & pl.col("网格编码").is_in(mine)).height
        got = int(grid_pop["实有人口"].sum())
        assert abs(got - want) <= TARGETS["grid_error"] * want, (st.district_code, got, want)
    # The districts' grids are the city's grids, each exactly once.
    assert sorted(seen_grids) == sorted(truth_grids["网格编码"].to_list())
    assert int(truth_grids["实有人口"].sum()) == truth_persons.filter(pl.col("状态") == "在住").height

    # Run again: nothing changed, so no district runs and no store is touched. A district's batch re-runs
    # that district alone, and so does a steward's decision recorded in its store through the portal.
    shutil.rmtree(inbox / BROKEN)
    capsys.readouterr()
    a, b = (st.district_code for st in STREETS)
    stores = {c: home / "districts" / c / "store.duckdb" for c in (a, b)}

    def again() -> dict[str, str]:
        before = {c: p.stat().st_mtime_ns for c, p in stores.items()}
        assert cli(["run", "--by-district", "--home", str(home), "--inbox", str(inbox),
                    "--as-of", AS_OF.isoformat()]) == 0
        out = capsys.readouterr().out
        lines = {m[2]: m[1] for line in out.splitlines() if (m := re.match(r"  ([✓✗=]) (\d{6})", line))}
        for c, mark in lines.items():
            assert (mark == "=") == (stores[c].stat().st_mtime_ns == before[c]), (c, mark)
        return lines

    assert again() == {a: "=", b: "="}
    first_file = sorted((inbox / a).rglob("*.csv"))[0]
    os.utime(first_file, ns=(first_file.stat().st_atime_ns, first_file.stat().st_mtime_ns + 10**9))
    assert again() == {a: "✓", b: "="}
    # One district to run: it ran in the command's own process, and is a district_job run of the instance too.
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_run_records(dg.RunsFilter(job_name="district_job", tags={"dagster/partition": a}))
        assert [r.dagster_run.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
    with Store(stores[b]).connect() as conn:
        conn.execute("""INSERT INTO quality.corrections (correction_id, issue_id, action, reason, "by", "at")
                        SELECT 'c-test', issue_id, 'waive', '核实无误', 'steward', TIMESTAMP '2026-11-01 09:00'
                        FROM quality.issues LIMIT 1""")
    assert again() == {a: "=", b: "✓"}
    assert cli(["run", "--by-district", "--all", "--home", str(home), "--inbox", str(inbox),
                "--as-of", AS_OF.isoformat()]) == 0
    assert "未变化" not in capsys.readouterr().out
