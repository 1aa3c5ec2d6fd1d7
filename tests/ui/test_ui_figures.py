"""The overview's plotly figures carry the right traces."""

from datetime import date
from decimal import Decimal

from llmlab_app.ui.figures import (
    DailyForecast,
    DayCost,
    ModelCost,
    cost_by_model_figure,
    daily_trend_figure,
)
from llmlab_app.ui.states.overview import daily_forecast
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


def test_daily_trend_without_forecast_has_only_the_actual_line() -> None:
    assert [t.name for t in daily_trend_figure([DayCost("2026-11-01", 1.0)], None).data] == [
        "Daily spend"
    ]


def test_month_end_range_is_spread_evenly_over_the_remaining_days() -> None:
    forecast = Forecast(
        spent=Decimal(10),
        projected=Decimal(40),
        low=Decimal(30),
        high=Decimal(55),
        runs_out_on=None,
        enough_data=True,
        method="test",
        daily_rate=Decimal(3),
        history_days=28,
        remaining_days=10,
    )
    daily = daily_forecast(forecast, date(2026, 11, 20), date(2026, 11, 30))
    assert daily.days[0] == "2026-11-21" and daily.days[-1] == "2026-11-30"
    assert daily.expected == [3.0] * 10
    assert daily.low == [2.0] * 10
    assert daily.high == [4.5] * 10
    assert sum(daily.expected) + 10 == 40
