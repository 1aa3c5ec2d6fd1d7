"""Budget periods as half-open date ranges."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, get_args

Period = Literal["daily", "weekly", "monthly"]
PERIODS: tuple[str, ...] = get_args(Period)


def period_bounds(period: Period, on: date) -> tuple[date, date]:
    """The period containing `on`: (start inclusive, end exclusive).

    Weeks start on Monday; months are calendar months.
    """
    if period == "daily":
        return on, on + timedelta(days=1)
    if period == "weekly":
        start = on - timedelta(days=on.weekday())
        return start, start + timedelta(days=7)
    if period == "monthly":
        start = on.replace(day=1)
        if start.month == 12:
            return start, start.replace(year=start.year + 1, month=1)
        return start, start.replace(month=start.month + 1)
    raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
