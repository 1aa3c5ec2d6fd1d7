"""Plotly figures of the overview page, built from plain series (pure, unit tested)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import plotly.graph_objects as go

from llmlab_app.ui import styles


@dataclass
class ModelCost:
    model: str
    provider: str
    cost_usd: float
    calls: int


@dataclass
class DayCost:
    day: str  # ISO date
    cost_usd: float
    partial: bool = False  # today: the day is not over, so its cost is not a day's cost yet


@dataclass
class DailyForecast:
    """Expected cost per day from today (its expected full day) on, and a band around it."""

    days: list[str]
    expected: list[float]
    low: list[float]
    high: list[float]


CHART_HEIGHT = 300
MODEL_BAR_HEIGHT = 40


def chart_height(model_count: int) -> int:
    """The overview's two charts share one height (the bars need 40 px each), so neither card
    of their row is left with empty space under its chart."""
    return max(CHART_HEIGHT, MODEL_BAR_HEIGHT * model_count + 60)


def _layout(figure: go.Figure, *, y_title: str) -> go.Figure:
    figure.update_layout(
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        height=CHART_HEIGHT,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": "Inter, system-ui, sans-serif", "size": 12, "color": "#8b8d98"},
        showlegend=False,
        hoverlabel={"font_size": 12},
        yaxis={
            "title": {"text": y_title},
            "tickprefix": "$",
            "gridcolor": "rgba(139,141,152,0.2)",
            "zeroline": False,
            "rangemode": "tozero",
        },
        xaxis={"gridcolor": "rgba(0,0,0,0)"},
    )
    return figure


def cost_by_model_figure(rows: list[ModelCost]) -> go.Figure:
    """Horizontal bars, biggest spender on top."""
    ordered = sorted(rows, key=lambda row: row.cost_usd)
    figure = go.Figure(
        go.Bar(
            name="Cost by model",
            x=[row.cost_usd for row in ordered],
            y=[row.model for row in ordered],
            orientation="h",
            marker={"color": styles.CHART_ACCENT, "cornerradius": 4},
            customdata=[[row.provider, row.calls] for row in ordered],
            hovertemplate="<b>%{y}</b> (%{customdata[0]})<br>$%{x:,.4f} · %{customdata[1]:,} calls"
            "<extra></extra>",
        )
    )
    _layout(figure, y_title="")
    figure.update_layout(
        height=chart_height(len(rows)),
        xaxis={"tickprefix": "$", "gridcolor": "rgba(139,141,152,0.2)", "rangemode": "tozero"},
        yaxis={"title": {"text": ""}, "tickprefix": "", "automargin": True},
        bargap=0.35,
    )
    return figure


def _day_bounds(first: str, last: str) -> list[str]:
    """Half a day either side of the first and last days: their markers fit, and no tick
    lands on a day outside the range (plotly's own padding showed "Nov 29" for December)."""
    half_day = timedelta(hours=12)
    start = datetime.combine(date.fromisoformat(first), time()) - half_day
    end = datetime.combine(date.fromisoformat(last), time()) + half_day
    return [start.isoformat(sep=" "), end.isoformat(sep=" ")]


def daily_trend_figure(
    days: list[DayCost], forecast: DailyForecast | None, *, height: int = CHART_HEIGHT
) -> go.Figure:
    """Full days (solid line), today so far (a ring, not a point of the line: the day is not
    over), then the expected cost per day (dashed) inside its likely range (shaded).

    The dashed line starts at the last full day and runs through today's expected full day,
    so a morning's partial spend is never drawn as a fall, nor the forecast as a jump from it.
    """
    full_days = [day for day in days if not day.partial]
    partial_days = [day for day in days if day.partial]
    anchor = full_days[-1:]
    figure = go.Figure()
    if forecast and forecast.days:
        band_x = [day.day for day in anchor] + forecast.days
        anchor_cost = [day.cost_usd for day in anchor]
        figure.add_trace(
            go.Scatter(
                name="Forecast range",
                x=band_x + band_x[::-1],
                y=anchor_cost + forecast.high + (forecast.low[::-1] + anchor_cost),
                mode="lines",
                fill="toself",
                fillcolor=styles.CHART_BAND,
                line={"width": 0},
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                name="Forecast",
                x=band_x,
                y=anchor_cost + forecast.expected,
                mode="lines" if len(band_x) > 1 else "markers",
                line={"color": styles.CHART_FORECAST, "dash": "dash", "width": 2},
                hovertemplate="%{x|%b %d}: ~$%{y:,.2f} expected<extra></extra>",
            )
        )
    if full_days:  # none on the 1st of the month, or for a range of today alone
        figure.add_trace(
            go.Scatter(
                name="Daily spend",
                x=[day.day for day in full_days],
                y=[day.cost_usd for day in full_days],
                mode="lines+markers",
                line={
                    "color": styles.CHART_ACCENT,
                    "width": 2.5,
                    "shape": "spline",
                    "smoothing": 0.3,
                },
                marker={"size": 5},
                hovertemplate="%{x|%b %d}: $%{y:,.4f}<extra></extra>",
            )
        )
    if partial_days:
        figure.add_trace(
            go.Scatter(
                name="Today so far",
                x=[day.day for day in partial_days],
                y=[day.cost_usd for day in partial_days],
                mode="markers",
                marker={
                    "symbol": "circle-open",
                    "size": 10,
                    "color": styles.CHART_ACCENT,
                    "line": {"width": 2},
                },
                hovertemplate="%{x|%b %d} so far: $%{y:,.4f} (the day is not over)<extra></extra>",
            )
        )
    _layout(figure, y_title="")
    last_day = forecast.days[-1] if forecast and forecast.days else (days[-1].day if days else "")
    xaxis: dict = {
        "type": "date",
        "tickformat": "%b %d",
        # A label that would spill past the plot (over the "$0" of the y axis) is left out.
        "ticklabeloverflow": "hide past domain",
    }
    if days:
        xaxis["range"] = _day_bounds(days[0].day, last_day)
    figure.update_layout(height=height, xaxis=xaxis)
    return figure


@dataclass
class WhatIfPoint:
    """One day of a what-if: spend as recorded and with the switch."""

    day: str  # ISO date
    old_usd: float
    new_usd: float


def whatif_figure(points: list[WhatIfPoint]) -> go.Figure:
    """Spend as recorded (grey) and with the switch (accent), day by day; the gap is saved."""
    days = [point.day for point in points]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            name="As recorded",
            x=days,
            y=[point.old_usd for point in points],
            mode="lines+markers",
            line={"color": styles.CHART_RECORDED, "width": 2},
            marker={"size": 4},
            hovertemplate="%{x|%b %d}: $%{y:,.4f} as recorded<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            name="With the switch",
            x=days,
            y=[point.new_usd for point in points],
            mode="lines+markers",
            line={"color": styles.CHART_ACCENT, "width": 2.5},
            marker={"size": 4},
            fill="tonexty",
            fillcolor=styles.CHART_BAND,
            hovertemplate="%{x|%b %d}: $%{y:,.4f} with the switch<extra></extra>",
        )
    )
    _layout(figure, y_title="")
    figure.update_layout(
        height=240,
        showlegend=True,
        # "normal": plotly lists filled traces in reverse unless told otherwise.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "traceorder": "normal"},
        margin={"l": 8, "r": 8, "t": 28, "b": 8},
        xaxis={"type": "date", "tickformat": "%b %d"},
    )
    return figure
