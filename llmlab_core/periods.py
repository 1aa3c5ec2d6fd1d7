"""Calendar arithmetic in UTC: budget periods and the date ranges users ask for.

Two kinds of range live in LLMLab, and only two:
- **days** (summaries, forecasts, what-if, recommendations, budgets, the CLI's `--days`, the
  dashboard's pickers) are inclusive UTC calendar days, resolved by `day_range`;
- **instants** (event timestamps in `/api/events` and the CSV) are half-open `[start, end)`.
Budget periods are half-open date ranges from `period_bounds`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args

Period = Literal["daily", "weekly", "monthly"]
PERIODS: tuple[str, ...] = get_args(Period)

MAX_RANGE_DAYS = 3_660


class InvalidRangeError(ValueError):
    """A range whose end comes before its start, or that spans too many days."""


def today_utc() -> date:
    """Today's date on the UTC calendar, the one the server bills in."""
    return datetime.now(UTC).date()


def last_day(period_end: date) -> date:
    """The last day of a half-open period, as people name it ("until Dec 31")."""
    return period_end - timedelta(days=1)


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


def day_range(
    start: date | None, end: date | None, *, today: date | None = None
) -> tuple[date, date]:
    """The inclusive UTC days a request means; the one definition every reader of dates uses.

    - neither given: this month so far (the 1st to today);
    - a start alone: from it to today (never cut at the end of start's month);
    - an end alone: from the 1st of end's month to end;
    - both: as given (an end after today is allowed; nothing is recorded there yet).
    """
    today = today or today_utc()
    if start is None:
        start = (end or today).replace(day=1)
    if end is None:
        end = today
    if end < start:
        if start > today:
            raise InvalidRangeError(f"start {start} is after today ({today}, UTC)")
        raise InvalidRangeError(f"end {end} is before start {start}")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidRangeError(f"a range spans at most {MAX_RANGE_DAYS} days")
    return start, end


def last_days(days: int, *, today: date | None = None) -> tuple[date, date]:
    """The last `days` UTC days, today included."""
    if days < 1:
        raise InvalidRangeError(f"a range has at least 1 day, got {days}")
    end = today or today_utc()
    return end - timedelta(days=days - 1), end


def day_instants(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Inclusive days as the half-open instants event timestamps are filtered by: [start
    00:00, the day after end 00:00) in UTC; an open side stays None."""
    return (
        _midnight(start) if start else None,
        _midnight(end + timedelta(days=1)) if end else None,
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def recorded_days(start: date, end: date, *, today: date | None = None) -> list[date]:
    """The days of [start, end] that can hold spend: none after today."""
    last = min(end, today or today_utc())
    return [start + timedelta(days=i) for i in range((last - start).days + 1)]
