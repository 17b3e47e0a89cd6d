"""The whole asset graph, materialised for real on the demo street, measured against its truth.

This is the test that catches an upgrade of Dagster, DuckDB, Splink or GX breaking the pipeline.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import dagster as dg
import pytest

from pipelines import demo
from pipelines.cli import main as cli
from pipelines.definitions import defs
from pipelines.runner import run_pipeline
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)


def _frames(home):
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        return {name: conn.sql(f"SELECT * FROM marts.{name}").pl()
                for name in ("person_sources", "grid_population", "assistance_check")}


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("onceonly_pipeline") is not None


def test_a_first_run_on_an_empty_inbox_says_what_to_do(tmp_path, capsys):
    (tmp_path / "inbox" / "residents").mkdir(parents=True)
    code = cli(["run", "--home", str(tmp_path / "home"), "--inbox", str(tmp_path / "inbox"),
                "--as-of", AS_OF.isoformat()])
    out = capsys.readouterr().out
    assert code == 1 and f"收件箱 {tmp_path / 'inbox'} 里还没有文件" in out, out
    assert not (tmp_path / "home" / "store.duckdb").exists()


def test_monthly_schedule_reports_the_last_day_of_the_previous_month():
    from pipelines.definitions import monthly_reports

    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 1, 6))
    request = monthly_reports(context)
    config = dg.validate_run_config(defs.resolve_job_def("onceonly_pipeline"), request.run_config)
    assert config["resources"]["settings"]["config"]["as_of"] == "2026-10-31"


def test_every_batch_is_accounted_for(demo_world):
    home, summary = demo_world["home"], demo_world["summary"]
    assert summary.batches, "the demo inbox produced no batches"
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        bad = conn.execute("SELECT count(*) FROM raw.batches WHERE status = 'loaded' "
                           "AND rows_read <> rows_loaded + rows_rejected").fetchone()[0]
        rejected_files = conn.execute("SELECT count(*) FROM raw.batches WHERE status = 'rejected'").fetchone()[0]
    assert bad == 0
    assert rejected_files >= 1  # the demo holds a file missing a required column


def test_accuracy_targets_on_the_demo_truth(demo_world):
    inbox, truth, home = demo_world["inbox"], demo_world["truth"], demo_world["home"]
    result = demo.check(inbox, truth, **_frames(home))
    print(demo.format_check(result))
    assert result["passed"], demo.format_check(result)


def test_rerun_is_a_no_op_and_keeps_person_keys(demo_copy):
    inbox, home = demo_copy["inbox"], demo_copy["home"]
    before = _frames(home)["person_sources"]
    # a district's record of its last run's inputs (pipelines/districts.py) goes with any other run into its home
    (home / "last_run.json").write_text("{}")
    again = run_pipeline(home=home, inbox=inbox, as_of=AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert again.success and again.batches == []
    assert not (home / "last_run.json").exists()
    after = _frames(home)["person_sources"]
    assert before.sort(["批次", "行号"]).equals(after.sort(["批次", "行号"]))


def test_extract_is_reproducible_for_a_date(demo_world, tmp_path):
    home = demo_world["home"]
    outs = []
    for i in range(2):
        out = tmp_path / f"grid{i}.csv"
        assert cli(["extract", "grid-population", "--format", "csv", "--out", str(out),
                    "--as-of", AS_OF.isoformat(), "--home", str(home)]) == 0
        outs.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert outs[0] == outs[1]


def test_invalid_id_issues_suggest_the_true_id_of_the_typo_linked_person(demo_world):
    """A one-digit typo that identity linked to a person: the steward is offered that person's ID."""
    import polars as pl

    with Store(demo_world["home"] / "store.duckdb").connect(read_only=True) as conn:
        issues = conn.sql("""
            SELECT b.file_name AS 文件, i.row_no AS 行号, i.suggested_fix
            FROM quality.issues i JOIN raw.batches b USING (batch_id)
            WHERE i.rule = 'id_invalid' AND i.column_name = 'id_number'""").pl()
    truth = (pl.read_csv(demo_world["truth"] / "records.csv", infer_schema=False)
             .with_columns(pl.col("行号").cast(pl.Int32))
             .join(pl.read_csv(demo_world["truth"] / "persons.csv", infer_schema=False)
                   .select("human_id", "公民身份号码"), on="human_id"))
    suggested = issues.filter(pl.col("suggested_fix").is_not_null()).join(truth, on=["文件", "行号"], how="left")
    assert len(suggested) >= 0.5 * len(issues) > 50
    assert (suggested["suggested_fix"] == suggested["公民身份号码"]).all()
