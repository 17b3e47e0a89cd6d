"""The statistics date (统计截止日期) every output takes: which dates a command accepts; the school year a date
falls in is the SQL macro ``school_enrolment_year`` (sql/macros/dates.sql).

A date after today describes a world with no evidence yet: everyone's presence evidence ages past the freshness
window and 实有人口 falls towards 0, which a clerk would send up as if true. So the command line refuses it
unless ``--allow-future`` says the date is meant (tests, planning runs). "Today" is the machine's local date,
the same date the commands take as their default ``--as-of``.
"""
from __future__ import annotations

import datetime as dt

from pipelines.errors import UserFacingError


class FutureAsOf(UserFacingError):
    """An as-of date after today without ``--allow-future``."""


def check_as_of(as_of: dt.date, *, allow_future: bool = False, today: dt.date | None = None) -> None:
    """Refuse an as-of date after ``today`` (default: the machine's date) unless ``allow_future``."""
    today = today or dt.date.today()
    if as_of > today and not allow_future:
        raise FutureAsOf(
            f"统计截止日期 {as_of.isoformat()} 晚于今天（{today.isoformat()}）：今天之后的走访、登记等材料还没有发生，"
            "按这个日期统计，在住证据都会过期，人员被算作待核实，实有人口接近 0，结果不能上报。"
            f"请用今天或更早的日期（例如 --as-of {today.isoformat()}）；确需按将来的日期试算时，加 --allow-future。")

