"""The overview page: cards, the two charts, budgets and recommendations for one filter."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import reflex as rx
from reflex.utils.serializers import serialize

from llmlab_app.errors import AppError
from llmlab_app.services import pages, spend
from llmlab_app.services.pages import OverviewPage
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.figures import (
    DailyForecast,
    DayCost,
    ModelCost,
    chart_height,
    cost_by_model_figure,
    daily_trend_figure,
)
from llmlab_app.ui.format import format_count, format_day, format_range, format_usd
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.filters import date_range
from llmlab_app.ui.states.live import overview_reads, read_shared
from llmlab_app.ui.states.live_page import heartbeat, watch_page
from llmlab_app.ui.states.service_call import call_service
from llmlab_app.ui.states.views import (
    BudgetView,
    RecommendationView,
    budget_view,
    recommendation_view,
)
from llmlab_core import Forecast, period_bounds
from llmlab_core.pricing.names import display_name

ALL = "all"


@dataclass
class CostCard:
    key: str = ""
    label: str = ""
    value: str = ""
    detail: str = ""
    icon: str = ""


def cost_cards(data: OverviewPage, today: date) -> list[CostCard]:
    totals, forecast = data.summary.totals, data.forecast
    month_start, _ = period_bounds("monthly", today)
    summary = data.summary
    is_this_month = summary.start == month_start and summary.end in (today, data.month_end)
    range_label = (
        "Spend this month"
        if is_this_month
        else f"Spend {format_range(format_day(data.summary.start), format_day(data.summary.end))}"
    )
    unpriced = totals.unpriced_calls
    return [
        CostCard(
            "range",
            range_label,
            format_usd(totals.cost_usd),
            f"{format_count(totals.calls)} calls",
            "wallet",
        ),
        CostCard(
            "today",
            "Today",
            format_usd(data.today.cost_usd),
            f"{format_count(data.today.calls)} calls so far (UTC)",
            "calendar_days",
        ),
        CostCard(
            "forecast",
            "Forecast to month end",
            format_usd(forecast.projected),
            f"likely {format_range(format_usd(forecast.low), format_usd(forecast.high))}"
            f" by {format_day(data.month_end)}",
            "trending_up",
        ),
        CostCard(
            "calls",
            "Calls",
            format_count(totals.calls),
            f"{format_count(totals.error_calls)} failed",
            "activity",
        ),
        CostCard(
            "unpriced",
            "Unpriced calls",
            format_count(unpriced),
            "add prices in Settings" if unpriced else "every call has a price",
            "circle_help",
        ),
    ]


def day_costs(by_day: list[tuple[date, spend.SpendTotals]], today: date) -> list[DayCost]:
    """The daily series as the chart draws it: today marked partial, and never a day after
    today (it has cost nothing *yet*, which a $0 point would misstate)."""
    return [
        DayCost(day.isoformat(), float(totals.cost_usd), partial=day == today)
        for day, totals in by_day
        if day <= today
    ]


def day_left(now: datetime) -> Decimal:
    """The share of the UTC day `now` falls on that is still to come (1 at midnight)."""
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    elapsed = Decimal(str((now - midnight).total_seconds()))
    return 1 - elapsed / Decimal(86_400)


def daily_forecast(
    forecast: Forecast, now: datetime, last_day: date, today_so_far: Decimal
) -> DailyForecast:
    """Expected cost per day from today to `last_day`, with a band around it.

    The days after today get the core's month-end range spread evenly over the days it
    projects (the core gives totals). Today gets its expected full day: what it has cost so
    far plus the rest of the day at that rate, never less than it has already cost.
    """
    today = now.date()
    if last_day < today:
        return DailyForecast([], [], [], [])
    remaining = Decimal(forecast.remaining_days)
    if remaining:
        rate = (forecast.projected - forecast.spent) / remaining
        above = (forecast.high - forecast.projected) / remaining
        below = (forecast.projected - forecast.low) / remaining
    else:  # today is the period's last day: nothing projected after it
        rate, above, below = forecast.daily_rate, Decimal(0), Decimal(0)
    low = max(rate - below, Decimal(0))
    left = day_left(now)
    days = [today + timedelta(days=offset) for offset in range((last_day - today).days + 1)]
    later = len(days) - 1
    return DailyForecast(
        days=[day.isoformat() for day in days],
        expected=[float(today_so_far + rate * left)] + [float(rate)] * later,
        low=[float(today_so_far + low * left)] + [float(low)] * later,
        high=[float(today_so_far + (rate + above) * left)] + [float(rate + above)] * later,
    )


def chart_inputs(
    data: OverviewPage, now: datetime
) -> tuple[list[ModelCost], list[DayCost], DailyForecast]:
    """What the two charts draw: cost per model (named as the user's calls name it), cost
    per day up to today, and the forecast when the range includes today."""
    summary, today = data.summary, now.date()
    models = [
        ModelCost(
            display_name(model, [name for name, _ in summary.model_variants[(provider, model)]]),
            provider,
            float(totals.cost_usd),
            totals.calls,
        )
        for (provider, model), totals in summary.by_model
    ]
    forecast = DailyForecast([], [], [], [])
    if summary.start <= today <= summary.end:
        # A range that runs to today (the default: this month so far) shows the month's
        # forecast.
        month_end = data.month_end
        until = month_end if summary.end == today else min(month_end, summary.end)
        forecast = daily_forecast(data.forecast, now, until, data.today.cost_usd)
    return models, day_costs(summary.by_day, today), forecast


@dataclass(frozen=True)
class OverviewView:
    """Everything an overview shows for one read, built once and shared by every open page
    showing that read: building and serialising the two figures was most of a redraw."""

    start_date: str
    end_date: str
    cards: list[CostCard]
    days_empty: bool
    model_names: list[str]
    daily_trend_chart: dict[str, Any]
    cost_by_model_chart: dict[str, Any]
    budgets: list[BudgetView]
    recommendations: list[RecommendationView]
    project_names: list[str]
    has_events: bool


def overview_view(data: OverviewPage, now: datetime) -> OverviewView:
    summary, today = data.summary, now.date()
    models, days, forecast = chart_inputs(data, now)
    return OverviewView(
        start_date=summary.start.isoformat(),
        end_date=summary.end.isoformat(),
        cards=cost_cards(data, today),
        days_empty=not days,
        model_names=[cost.model for cost in models],
        daily_trend_chart=serialize(
            daily_trend_figure(days, forecast, height=chart_height(len(models)))
        ),
        cost_by_model_chart=serialize(cost_by_model_figure(models)),
        budgets=[budget_view(status, today) for status in data.budgets],
        recommendations=[recommendation_view(item) for item in data.recommendations[:5]],
        project_names=data.project_names,
        has_events=summary.totals.calls > 0 or bool(data.budgets),
    )


Query = tuple[date | None, date | None, str | None, date]
PageRead = tuple[OverviewView | AppError, int | None]


async def _read_page(actor: Actor, query: Query, shared: bool = True) -> PageRead:
    """The overview's view for `query` and the change count it includes at least, shared by
    the organisation's pages with the same filter (`read_shared`), figures included."""
    start, end, project, _ = query
    today = datetime.now(UTC).date()

    async def read() -> OverviewView:
        data = await call_service(
            pages.read_overview,
            org_id=actor.org_id,
            start=start,
            end=end,
            project=project,
            today=today,
        )
        return await asyncio.to_thread(overview_view, data, datetime.now(UTC))

    try:
        return await read_shared(
            overview_reads, actor.org_id, (start, end, project, today), read, shared=shared
        )
    except AppError as error:
        return error, None


class OverviewState(rx.State):
    start_date: str = ""
    end_date: str = ""
    project: str = ALL
    start_error: str = ""
    end_error: str = ""
    form_error: str = ""
    loading: bool = True
    has_events: bool = False
    cards: list[CostCard] = []
    days_empty: bool = True
    models_empty: bool = True
    _model_names: list[str] = []  # the what-if panel's suggestions
    # Serialised plotly figures (`OverviewView`), not `go.Figure`s: shared, not rebuilt per tab.
    daily_trend_chart: dict[str, Any] = {}
    cost_by_model_chart: dict[str, Any] = {}
    budgets: list[BudgetView] = []
    recommendations: list[RecommendationView] = []
    project_names: list[str] = []
    # The change count of the organisation shown when it was read (`ui/states/live.py`).
    _version: int | None = None

    def _query(self) -> Query:
        start, end, _ = date_range(self.start_date, self.end_date)
        project = None if self.project == ALL else self.project
        return start, end, project, datetime.now(UTC).date()

    async def _refresh(self, actor: Actor) -> None:
        read = await _read_page(actor, self._query())
        self._apply(read)

    def _apply(self, read: PageRead) -> None:
        # A refused read comes with no count (None): the watch then tries again on its
        # heartbeat's schedule instead of at once, which would repeat the refusal in a loop.
        view, self._version = read
        if isinstance(view, AppError):
            self.form_error = view.message
            self.loading = False
            return
        self._show(view)

    def _show(self, view: OverviewView) -> None:
        self.form_error = ""
        self.start_date, self.end_date = view.start_date, view.end_date
        self.cards = view.cards
        self.days_empty, self._model_names = view.days_empty, view.model_names
        self.models_empty = not view.model_names
        self.daily_trend_chart = view.daily_trend_chart
        self.cost_by_model_chart = view.cost_by_model_chart
        self.budgets, self.recommendations = view.budgets, view.recommendations
        self.project_names = view.project_names
        self.has_events = view.has_events
        self.loading = False

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        await self._refresh(actor)
        return OverviewState.watch

    @rx.event
    async def apply_filters(self, form_data: dict[str, Any]):
        start, end, errors = date_range(
            str(form_data.get("start_date", "")), str(form_data.get("end_date", ""))
        )
        self.start_error, self.end_error = errors.get("start", ""), errors.get("end", "")
        if errors:
            return None
        self.start_date = start.isoformat() if start else ""
        self.end_date = end.isoformat() if end else ""
        self.project = str(form_data.get("project", ALL)) or ALL
        return OverviewState.load

    @rx.event
    def this_month(self):
        self.start_date = self.end_date = ""
        self.start_error = self.end_error = ""
        return OverviewState.load

    @rx.event
    def poll(self, _now: str = ""):
        """The page's heartbeat (`live_page.heartbeat`)."""
        return heartbeat(self, OverviewState.watch)

    @rx.event(background=True)
    async def watch(self):
        """Redraw when the organisation's data changes (`live_page.watch_page`)."""
        await watch_page(
            self, query=OverviewState._query, read=_read_page, show=OverviewState._apply
        )
