"""The overview's plotly figures carry the right traces."""

from datetime import UTC, date, datetime
from decimal import Decimal

from llmlab_app.services.spend import SpendTotals
from llmlab_app.ui.figures import (
    DailyForecast,
    DayCost,
    ModelCost,
    chart_height,
    cost_by_model_figure,
    daily_trend_figure,
)
from llmlab_app.ui.states.overview import daily_forecast, day_costs, day_left
from llmlab_core.forecast import Forecast


def test_cost_by_model_puts_the_biggest_spender_on_top() -> None:
    figure = cost_by_model_figure(
        [ModelCost("gpt-4o", "openai", 3.0, 10), ModelCost("mini", "openai", 9.0, 90)]
    )
    (bars,) = figure.data
    assert bars.type == "bar" and bars.orientation == "h"
    # Plotly draws the last category at the top.
    assert list(bars.y) == ["gpt-4o", "mini"]
    assert list(bars.x) == [3.0, 9.0]


def test_daily_trend_continues_as_a_dashed_forecast_inside_its_band() -> None:
    days = [DayCost("2026-11-01", 1.0), DayCost("2026-11-02", 2.0)]
    forecast = DailyForecast(["2026-11-03"], [1.5], [1.0], [2.0])
    band, expected, actual = daily_trend_figure(days, forecast).data
    assert band.fill == "toself"
    assert expected.line.dash == "dash"
    # The forecast starts at the last actual day so the two lines join.
    assert list(expected.x) == ["2026-11-02", "2026-11-03"]
    assert list(expected.y) == [2.0, 1.5]
    assert list(actual.y) == [1.0, 2.0]


def test_today_so_far_is_a_ring_and_the_forecast_runs_through_its_expected_full_day() -> None:
    # Yesterday cost $12.71; today, a few hours in, $2.00 so far; a full day is expected ~$12.
    days = [
        DayCost("2026-12-01", 11.9),
        DayCost("2026-12-02", 12.71),
        DayCost("2026-12-03", 2.0, partial=True),
    ]
    forecast = DailyForecast(["2026-12-03", "2026-12-04"], [12.2, 12.0], [10.0, 9.0], [14.0, 15.0])
    band, expected, actual, today = daily_trend_figure(days, forecast).data
    # No cliff: the solid line ends at the last full day...
    assert list(actual.x) == ["2026-12-01", "2026-12-02"]
    # ...today's partial cost is a marker of its own...
    assert (list(today.x), list(today.y), today.mode) == (["2026-12-03"], [2.0], "markers")
    assert today.marker.symbol == "circle-open"
    # ...and the dashed line goes from yesterday to today's expected full day, not from $2.00.
    assert list(expected.x) == ["2026-12-02", "2026-12-03", "2026-12-04"]
    assert list(expected.y) == [12.71, 12.2, 12.0]
    assert list(band.x)[:3] == ["2026-12-02", "2026-12-03", "2026-12-04"]


def test_the_date_axis_spans_exactly_the_days_drawn() -> None:
    days = [DayCost("2026-12-01", 1.0), DayCost("2026-12-02", 2.0, partial=True)]
    forecast = DailyForecast(["2026-12-02", "2026-12-03"], [2.5, 2.0], [2.0, 1.0], [3.0, 3.0])
    xaxis = daily_trend_figure(days, forecast).layout.xaxis
    # Half a day of margin either side: no "Nov 30" tick before a December range.
    assert list(xaxis.range) == ["2026-11-30 12:00:00", "2026-12-03 12:00:00"]
    # A first tick label that would spill left over the y axis's "$0" is not drawn.
    assert xaxis.ticklabeloverflow == "hide past domain"
    without_forecast = daily_trend_figure(days, None).layout.xaxis
    assert list(without_forecast.range) == ["2026-11-30 12:00:00", "2026-12-02 12:00:00"]


def test_daily_trend_without_forecast_has_only_the_actual_line() -> None:
    assert [t.name for t in daily_trend_figure([DayCost("2026-11-01", 1.0)], None).data] == [
        "Daily spend"
    ]


def test_the_two_overview_charts_share_one_height() -> None:
    few = [ModelCost("gpt-4o", "openai", 3.0, 10)]
    many = [ModelCost(f"m{i}", "openai", 1.0, 1) for i in range(9)]
    assert cost_by_model_figure(few).layout.height == daily_trend_figure([], None).layout.height
    assert chart_height(len(many)) == 420
    assert cost_by_model_figure(many).layout.height == 420
    assert daily_trend_figure([], None, height=chart_height(len(many))).layout.height == 420


def _forecast(**fields: object) -> Forecast:
    values: dict = {
        "spent": Decimal(10),
        "projected": Decimal(40),
        "low": Decimal(30),
        "high": Decimal(55),
        "runs_out_on": None,
        "enough_data": True,
        "method": "test",
        "daily_rate": Decimal(3),
        "history_days": 28,
        "remaining_days": 10,
    }
    return Forecast(**(values | fields))


def test_month_end_range_is_spread_evenly_over_the_days_after_today() -> None:
    now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # a quarter of the day still to come
    daily = daily_forecast(_forecast(), now, date(2026, 11, 30), Decimal("2.5"))
    assert daily.days[0] == "2026-11-20" and daily.days[-1] == "2026-11-30"
    assert daily.expected[1:] == [3.0] * 10
    assert daily.low[1:] == [2.0] * 10
    assert daily.high[1:] == [4.5] * 10
    assert sum(daily.expected[1:]) + 10 == 40  # spent + the days after today = projected


def test_today_is_expected_to_cost_what_it_has_so_far_plus_the_rest_of_the_day() -> None:
    now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    daily = daily_forecast(_forecast(), now, date(2026, 11, 30), Decimal("2.5"))
    # $2.50 so far + a quarter of a $3.00 day; the band likewise, never below what is spent.
    assert (daily.expected[0], daily.low[0], daily.high[0]) == (3.25, 3.0, 3.625)


def test_on_the_periods_last_day_today_gets_the_daily_rate() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    daily = daily_forecast(_forecast(remaining_days=0), now, date(2026, 11, 30), Decimal(1))
    assert (daily.days, daily.expected) == (["2026-11-30"], [2.5])


def test_a_range_that_ended_before_today_has_no_forecast() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert daily_forecast(_forecast(), now, date(2026, 11, 29), Decimal(1)).days == []


def test_the_rest_of_the_day_is_measured_in_utc() -> None:
    assert day_left(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == 1
    assert day_left(datetime(2026, 11, 30, 18, 0, tzinfo=UTC)) == Decimal("0.25")


def test_the_daily_series_marks_today_partial_and_stops_at_today() -> None:
    totals = SpendTotals(cost_usd=Decimal("1.5"))
    by_day = [(date(2026, 12, day), totals) for day in (1, 2, 3, 4)]
    series = day_costs(by_day, date(2026, 12, 3))
    assert [(d.day, d.partial) for d in series] == [
        ("2026-12-01", False),
        ("2026-12-02", False),
        ("2026-12-03", True),
    ]


def test_on_the_first_of_the_month_there_is_no_line_only_today_and_its_forecast() -> None:
    days = [DayCost("2026-12-01", 0.4, partial=True)]
    forecast = DailyForecast(["2026-12-01", "2026-12-02"], [1.0, 1.2], [0.8, 0.9], [1.1, 1.5])
    names = [trace.name for trace in daily_trend_figure(days, forecast).data]
    assert names == ["Forecast range", "Forecast", "Today so far"]
