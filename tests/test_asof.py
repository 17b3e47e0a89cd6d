"""The statistics date: a date after today is refused on the command line unless --allow-future; the school year
of a date decides which enrolment cohort the school-age lists hold."""
from __future__ import annotations

import datetime as dt

import pytest

from pipelines.asof import FutureAsOf, check_as_of
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
