from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmlab_core.periods import period_bounds


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
