from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmlab_core.periods import (
    InvalidRangeError,
    day_range,
    last_day,
    last_days,
    period_bounds,
    recorded_days,
)


def test_daily_period_is_the_day_itself():
    assert period_bounds("daily", date(2026, 2, 28)) == (date(2026, 2, 28), date(2026, 3, 1))


@pytest.mark.parametrize("day", [date(2026, 11, 23), date(2026, 11, 26), date(2026, 11, 29)])
def test_weeks_run_monday_to_the_next_monday(day):
    assert period_bounds("weekly", day) == (date(2026, 11, 23), date(2026, 11, 30))


def test_week_can_straddle_a_year_end():
    assert period_bounds("weekly", date(2027, 1, 1)) == (date(2026, 12, 28), date(2027, 1, 4))


@pytest.mark.parametrize(
    ("day", "bounds"),
    [
        (date(2026, 1, 31), (date(2026, 1, 1), date(2026, 2, 1))),
        (date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
        (date(2026, 12, 1), (date(2026, 12, 1), date(2027, 1, 1))),
    ],
)
def test_months_are_calendar_months(day, bounds):
    assert period_bounds("monthly", day) == bounds


def test_unknown_period_is_rejected():
    with pytest.raises(ValueError, match="unknown period 'yearly'"):
        period_bounds("yearly", date(2026, 1, 1))


@settings(max_examples=200, derandomize=True)
@given(day=st.dates(), period=st.sampled_from(["daily", "weekly", "monthly"]))
def test_every_day_lies_inside_its_period(day, period):
    try:
        start, end = period_bounds(period, day)
    except OverflowError:
        return  # the last week or month of year 9999 has no end date
    assert start <= day < end
    assert period_bounds(period, start) == (start, end)
    assert period != "weekly" or start.weekday() == 0
    assert start <= last_day(end) and period_bounds(period, last_day(end)) == (start, end)


# --- day_range: the one definition of "which days does this request mean" ---------------------

# The days a calendar bug hides on: a month's first and last day, a leap day, a year's turn.
BOUNDARY_TODAYS = [
    date(2026, 12, 1),
    date(2026, 11, 30),
    date(2028, 2, 29),
    date(2026, 12, 31),
    date(2027, 1, 1),
]


@pytest.mark.parametrize("today", BOUNDARY_TODAYS)
def test_no_dates_means_this_month_so_far(today):
    assert day_range(None, None, today=today) == (today.replace(day=1), today)


@pytest.mark.parametrize("today", BOUNDARY_TODAYS)
def test_a_start_alone_runs_to_today_even_from_an_earlier_month(today):
    start = date(today.year - 1, 11, 8)
    assert day_range(start, None, today=today) == (start, today)


def test_a_start_on_the_3rd_of_december_is_not_cut_at_the_end_of_november():
    assert day_range(date(2026, 11, 8), None, today=date(2026, 12, 3)) == (
        date(2026, 11, 8),
        date(2026, 12, 3),
    )


def test_an_end_alone_starts_on_the_first_of_its_month():
    assert day_range(None, date(2028, 2, 29), today=date(2028, 3, 5)) == (
        date(2028, 2, 1),
        date(2028, 2, 29),
    )


def test_a_start_after_today_is_refused_by_name():
    with pytest.raises(InvalidRangeError, match="after today"):
        day_range(date(2027, 1, 1), None, today=date(2026, 12, 31))


def test_an_end_before_the_start_is_refused():
    with pytest.raises(InvalidRangeError, match="before start"):
        day_range(date(2026, 5, 2), date(2026, 5, 1), today=date(2026, 6, 1))


@pytest.mark.parametrize("today", BOUNDARY_TODAYS)
def test_last_days_include_today_and_cross_month_and_year_ends(today):
    start, end = last_days(30, today=today)
    assert end == today and (end - start).days == 29


def test_recorded_days_stop_at_today():
    days = recorded_days(date(2026, 12, 1), date(2026, 12, 31), today=date(2026, 12, 1))
    assert days == [date(2026, 12, 1)]
    assert recorded_days(date(2028, 2, 28), date(2028, 3, 1), today=date(2028, 3, 5)) == [
        date(2028, 2, 28),
        date(2028, 2, 29),
        date(2028, 3, 1),
    ]
