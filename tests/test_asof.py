"""The statistics date: a date after today is refused on the command line unless --allow-future; the school year
of a date decides which enrolment cohort the school-age lists hold."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from pipelines.asof import FutureAsOf, check_as_of
from pipelines.resources import RunSettings
from pipelines.cli import main as cli


def test_a_future_as_of_is_refused_with_a_chinese_message_before_anything_is_touched(tmp_path, capsys):
    inbox = tmp_path / "inbox"
    (inbox / "residents").mkdir(parents=True)
    home = tmp_path / "home"
    for argv in (["run", "--inbox", str(inbox)], ["extract", "grid-population", "--out", str(tmp_path / "g.csv")],
                 ["explain", "510104199001010019"]):
        code = cli([*argv, "--home", str(home), "--as-of", "2099-01-01"])
        err = capsys.readouterr().err
        assert code == 2, argv
        assert "统计截止日期 2099-01-01 晚于今天" in err and "--allow-future" in err, err
    assert not home.exists()      # refused before a store or an audit record was made


def test_allow_future_lets_the_command_run(tmp_path, capsys):
    inbox = tmp_path / "inbox"
    (inbox / "residents").mkdir(parents=True)
    code = cli(["run", "--inbox", str(inbox), "--home", str(tmp_path / "home"), "--as-of", "2099-01-01",
                "--allow-future"])
    out = capsys.readouterr().out
    assert code == 1 and "里还没有文件" in out      # past the date check, stopped by the empty inbox


def test_today_and_earlier_are_accepted():
    today = dt.date(2026, 12, 7)
    check_as_of(today, today=today)
    check_as_of(dt.date(2026, 10, 31), today=today)
    with pytest.raises(FutureAsOf, match="2026-12-08 晚于今天（2026-12-07）"):
        check_as_of(dt.date(2026, 12, 8), today=today)
    check_as_of(dt.date(2026, 12, 8), today=today, allow_future=True)


@pytest.mark.parametrize("as_of, year", [
    ("2026-05-31", 2026),     # school year 2025–2026: the September 2026 enrolment is still ahead
    ("2026-08-31", 2026),
    ("2026-09-01", 2027),     # school year 2026–2027 began: plan for September 2027
    ("2026-10-31", 2027),
    ("2026-12-31", 2027),
])
def test_school_enrolment_year_follows_the_school_year(store, as_of, year):
    with store.connect() as conn:
        assert conn.execute("SELECT school_enrolment_year(?::DATE)", [as_of]).fetchall()[0][0] == year


@dg.asset
def reads_the_date(settings: RunSettings) -> str:
    return settings.as_of_date.isoformat()


def _settings_asset():
    return reads_the_date


def _refusal(result) -> str:
    """The message of the resource-init failure that stopped a Dagster run (the cause, not Dagster's wrapper)."""

    from pipelines.runner import _failures

    assert not result.success
    assert any(e.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE for e in result.all_events)
    return "；".join(_failures(result.all_events))


def test_a_future_as_of_in_a_dagster_run_config_is_refused_before_a_build_begins(tmp_path):
    """The whole pipeline job as the Dagster UI launches it, the date in its run config: refused with the command
    line's message, nothing built; ``allow_future: true`` in the config lets the date through."""

    from pipelines.definitions import defs


    home, inbox = tmp_path / "home", tmp_path / "inbox"
    (inbox / "residents").mkdir(parents=True)
    config = {"home": str(home), "inbox": str(inbox), "as_of": "2099-01-01"}
    result = defs.resolve_job_def("onceonly_pipeline").execute_in_process(
        run_config={"resources": {"settings": {"config": config}}}, raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral())
    message = _refusal(result)
    assert "统计截止日期 2099-01-01 晚于今天" in message and "--allow-future" in message, message
    assert not any(e.is_step_start for e in result.all_events)
    assert not (home / "versions").exists() or not any((home / "versions").iterdir())

    allowed = dg.materialize([_settings_asset()], resources={"settings": RunSettings(
        home=str(home), inbox=str(inbox), as_of="2099-01-01", allow_future=True)})
    assert allowed.success and allowed.output_for_node("reads_the_date") == "2099-01-01"


def test_a_future_onceonly_as_of_is_refused_like_the_command_line(monkeypatch, tmp_path):

    from pipelines.resources import default_resources

    monkeypatch.setenv("ONCEONLY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ONCEONLY_AS_OF", "2099-01-01")
    monkeypatch.delenv("ONCEONLY_ALLOW_FUTURE", raising=False)
    result = dg.materialize([_settings_asset()], resources={"settings": default_resources()["settings"]},
                            raise_on_error=False)
    assert "统计截止日期 2099-01-01 晚于今天" in _refusal(result)

    monkeypatch.setenv("ONCEONLY_AS_OF", "2026-10-31")      # a past date goes through
    past = dg.materialize([_settings_asset()], resources={"settings": default_resources()["settings"]})
    assert past.output_for_node("reads_the_date") == "2026-10-31"

    monkeypatch.setenv("ONCEONLY_AS_OF", "2099-01-01")
    monkeypatch.setenv("ONCEONLY_ALLOW_FUTURE", "1")
    future = dg.materialize([_settings_asset()], resources={"settings": default_resources()["settings"]})
    assert future.output_for_node("reads_the_date") == "2099-01-01"


def test_run_pipeline_refuses_a_future_date_unless_allowed(tmp_path):
    from pipelines.runner import run_pipeline

    inbox = tmp_path / "inbox"
    (inbox / "residents").mkdir(parents=True)
    summary = run_pipeline(home=tmp_path / "home", inbox=inbox, as_of=dt.date(2099, 1, 1))
    assert not summary.success and "统计截止日期 2099-01-01 晚于今天" in summary.error
    assert not (tmp_path / "home").exists()
    allowed = run_pipeline(home=tmp_path / "home", inbox=inbox, as_of=dt.date(2099, 1, 1), allow_future=True)
    assert not allowed.success and "里还没有文件" in allowed.error       # past the date, stopped by the empty inbox
