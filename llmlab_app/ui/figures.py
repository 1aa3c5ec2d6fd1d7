"""Plotly figures of the overview page, built from plain series (pure, unit tested)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class DailyForecast:
    """The forecast continued after today: expected cost per day and a band around it."""

    days: list[str]
    expected: list[float]
    low: list[float]
    high: list[float]


def _layout(figure: go.Figure, *, y_title: str) -> go.Figure:
    figure.update_layout(
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        height=300,
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
        height=max(220, 40 * len(rows) + 60),
        xaxis={"tickprefix": "$", "gridcolor": "rgba(139,141,152,0.2)", "rangemode": "tozero"},
        yaxis={"title": {"text": ""}, "tickprefix": "", "automargin": True},
        bargap=0.35,
    )
    return figure


def daily_trend_figure(days: list[DayCost], forecast: DailyForecast | None) -> go.Figure:
    """Actual daily spend (solid), then the forecast (dashed) inside its shaded range."""
    figure = go.Figure()
    if forecast and forecast.days:
        # Start the forecast at the last actual point so the dashed line continues the solid one.
        anchor_days = [days[-1].day] if days else []
        anchor_cost = [days[-1].cost_usd] if days else []
        band_x = anchor_days + forecast.days
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
                mode="lines",
                line={"color": styles.CHART_FORECAST, "dash": "dash", "width": 2},
                hovertemplate="%{x|%b %d}: ~$%{y:,.2f} expected<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            name="Daily spend",
            x=[day.day for day in days],
            y=[day.cost_usd for day in days],
            mode="lines+markers",
            line={"color": styles.CHART_ACCENT, "width": 2.5, "shape": "spline", "smoothing": 0.3},
            marker={"size": 5},
            hovertemplate="%{x|%b %d}: $%{y:,.4f}<extra></extra>",
        )
    )
    _layout(figure, y_title="")
    figure.update_layout(xaxis={"type": "date", "tickformat": "%b %d"})
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
