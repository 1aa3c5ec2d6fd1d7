from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmlab_core.forecast import forecast_spend
from llmlab_core.periods import period_bounds

NOVEMBER = period_bounds("monthly", date(2026, 11, 1))


def steady(start: date, end: date, cost: str = "10") -> dict[date, Decimal]:
    """$cost every day from start to end inclusive."""
    return {start + timedelta(days=n): Decimal(cost) for n in range((end - start).days + 1)}


def forecast(costs, today, limit=None, period=NOVEMBER):
    start, end = period
    return forecast_spend(costs, period_start=start, period_end=end, today=today, limit_usd=limit)


def test_steady_spend_projects_the_same_rate_to_period_end():
    costs = steady(date(2026, 10, 1), date(2026, 11, 15))

    result = forecast(costs, today=date(2026, 11, 15))

    assert result.spent == Decimal("150")
    assert result.projected == Decimal("300")
    assert result.low == result.high == Decimal("300")
    assert result.enough_data is True
    assert result.remaining_days == 15


def test_days_before_the_period_feed_the_rate_on_the_first_day():
    costs = steady(date(2026, 10, 4), date(2026, 11, 1), cost="4")

    result = forecast(costs, today=date(2026, 11, 1))

    assert result.spent == Decimal("4")
    assert result.projected == Decimal("120")
    assert result.history_days == 28


def test_spend_before_the_period_is_not_counted_as_spent():
    costs = steady(date(2026, 10, 1), date(2026, 11, 2))

    assert forecast(costs, today=date(2026, 11, 2)).spent == Decimal("20")


def test_no_data_at_all_projects_nothing_and_says_so():
    result = forecast({}, today=date(2026, 11, 10), limit=Decimal("5"))

    assert result.spent == result.projected == result.high == Decimal("0")
    assert result.enough_data is False
    assert result.runs_out_on is None
    assert "no history" in result.method


def test_first_day_of_a_new_account_uses_today_with_a_wide_range():
    result = forecast({date(2026, 11, 1): Decimal("3")}, today=date(2026, 11, 1))

    assert result.enough_data is False
    assert result.projected == Decimal("90")
    assert result.low == Decimal("3")
    assert result.high > Decimal("150")


def test_little_history_is_flagged_and_widens_the_range():
    costs = steady(date(2026, 11, 1), date(2026, 11, 4))

    result = forecast(costs, today=date(2026, 11, 4))

    assert result.enough_data is False
    assert result.history_days == 3
    assert result.projected == Decimal("300")
    assert result.low == result.spent == Decimal("40")
    assert result.high > 2 * result.projected


def test_a_spike_counts_as_spent_but_is_not_projected_forward():
    costs = steady(date(2026, 10, 1), date(2026, 11, 15))
    costs[date(2026, 11, 10)] = Decimal("1000")

    result = forecast(costs, today=date(2026, 11, 15))

    assert result.spent == Decimal("1140")
    assert result.daily_rate == Decimal("10")
    assert result.projected == Decimal("1290")
    assert result.high > result.projected > result.low


def test_last_day_of_the_period_leaves_nothing_to_project():
    costs = steady(date(2026, 10, 1), date(2026, 11, 30))

    result = forecast(costs, today=date(2026, 11, 30))

    assert result.remaining_days == 0
    assert result.spent == result.projected == result.low == result.high == Decimal("300")


def test_spend_after_the_period_end_is_ignored():
    costs = steady(date(2026, 10, 1), date(2026, 12, 3))

    result = forecast(costs, today=date(2026, 12, 3))

    assert result.spent == Decimal("300")
    assert result.remaining_days == 0


def test_weekday_pattern_is_projected_by_weekday():
    # $70 on weekdays, $0 at weekends, for eight weeks.
    costs = {
        day: Decimal("0") if day.weekday() >= 5 else Decimal("70")
        for day in (date(2026, 9, 28) + timedelta(days=n) for n in range(56))
    }
    start, end = period_bounds("weekly", date(2026, 11, 23))
    costs = {day: cost for day, cost in costs.items() if day < date(2026, 11, 23)}
    costs[date(2026, 11, 23)] = Decimal("70")

    result = forecast(costs, today=date(2026, 11, 23), period=(start, end))

    # Tue-Fri near $70 each, weekend near $0 (shrunk slightly toward the $50 overall mean).
    assert Decimal("320") < result.projected < Decimal("360")


def test_runs_out_on_is_the_projected_day_the_limit_is_reached():
    costs = steady(date(2026, 10, 1), date(2026, 11, 10))

    result = forecast(costs, today=date(2026, 11, 10), limit=Decimal("200"))

    assert result.runs_out_on == date(2026, 11, 20)


def test_runs_out_on_is_a_past_day_when_the_limit_is_already_reached():
    costs = steady(date(2026, 10, 1), date(2026, 11, 10))

    result = forecast(costs, today=date(2026, 11, 10), limit=Decimal("50"))

    assert result.runs_out_on == date(2026, 11, 5)


def test_runs_out_on_is_none_when_the_period_ends_first():
    costs = steady(date(2026, 10, 1), date(2026, 11, 10))

    assert forecast(costs, today=date(2026, 11, 10), limit=Decimal("301")).runs_out_on is None


def test_period_must_not_be_empty():
    with pytest.raises(ValueError, match="must be after period_start"):
        forecast_spend(
            {},
            period_start=date(2026, 11, 2),
            period_end=date(2026, 11, 2),
            today=date(2026, 11, 2),
        )


amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    costs=st.dictionaries(
        st.dates(min_value=date(2026, 9, 1), max_value=date(2026, 11, 30)), amounts, max_size=90
    ),
    today=st.dates(min_value=date(2026, 10, 25), max_value=date(2026, 12, 5)),
    limit=st.none() | amounts,
)
def test_forecast_range_always_brackets_the_projection(costs, today, limit):
    result = forecast(costs, today=today, limit=limit)

    assert result.spent <= result.low <= result.projected <= result.high
    expected_spent = sum(
        (cost for day, cost in costs.items() if NOVEMBER[0] <= day <= today), Decimal(0)
    )
    assert result.spent == expected_spent
    if result.runs_out_on is not None:
        assert NOVEMBER[0] <= result.runs_out_on < NOVEMBER[1]
