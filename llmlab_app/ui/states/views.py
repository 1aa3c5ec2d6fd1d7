"""What the pages display: plain rows of text, built from service results by pure functions.

States keep these (JSON-friendly, already formatted) instead of ORM objects, so the browser
receives exactly what it shows and the formatting is unit tested without a server.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from llmlab_app.db.models import (
    ApiKey,
    BudgetAlert,
    CostEvent,
    PriceOverride,
    Project,
    WebhookDelivery,
)
from llmlab_app.services.budgets import BudgetStatus
from llmlab_app.ui import styles
from llmlab_app.ui.format import (
    MISSING,
    format_count,
    format_day,
    format_timestamp,
    format_usd,
    format_usd_exact,
    format_usd_places,
    usd_column_places,
)
from llmlab_core import Recommendation
from llmlab_core.recommendations import shown_name


@dataclasses.dataclass
class EventRow:
    id: str = ""
    timestamp: str = ""
    project: str = ""
    provider: str = ""
    model: str = ""
    input_tokens: str = ""
    cached_tokens: str = ""
    # Cache reads and writes (1-hour ones apart) and a tier other than standard, on hover;
    # the writes and tier alone for a phone's card ("" when there are none).
    cache_detail: str = ""
    cache_writes: str = ""
    output_tokens: str = ""
    cost: str = ""  # rounded to its column's places (`usd_column_places`)
    cost_exact: str = ""  # every stored digit, shown on hover
    unpriced: bool = False
    client_reported: bool = False
    # What the sender said the call cost, when that differs from the stored cost ("" else).
    reported_cost: str = ""
    source: str = ""  # api, sdk, otlp or gateway: the ingress it came through
    via_gateway: bool = False
    status: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)


def cache_detail(event: CostEvent) -> str:
    """`5,000 read · 2,000 written (500 to the 1-hour cache) · batch tier`: what the Cached
    column's number does not say."""
    parts = [f"{format_count(event.cache_read_tokens)} read"]
    if event.cache_write_tokens:
        written = f"{format_count(event.cache_write_tokens)} written"
        if event.cache_write_1h_tokens:
            written += f" ({format_count(event.cache_write_1h_tokens)} to the 1-hour cache)"
        parts.append(written)
    if event.service_tier != "standard":
        parts.append(f"{event.service_tier} tier")
    return " · ".join(parts)


def reported_cost(event: CostEvent) -> str:
    """The cost a span or client reported beside ours, when the two disagree."""
    reported = event.reported_cost_usd
    if reported is None or (not event.unpriced and reported == event.cost_usd):
        return ""
    return format_usd_exact(reported)


def event_row(event: CostEvent, project: str | None, cost_places: int) -> EventRow:
    """One event as its row shows it; `cost_places` is the column's (see `event_rows`)."""
    return EventRow(
        id=str(event.id),
        timestamp=format_timestamp(event.timestamp),
        project=project or MISSING,
        provider=event.provider,
        model=event.model,
        input_tokens=format_count(event.input_tokens),
        cached_tokens=format_count(event.cache_read_tokens),
        cache_detail=cache_detail(event),
        cache_writes=cache_detail(event).partition(" · ")[2],
        output_tokens=format_count(event.output_tokens),
        cost="unpriced" if event.unpriced else format_usd_places(event.cost_usd, cost_places),
        cost_exact="" if event.unpriced else format_usd_exact(event.cost_usd),
        unpriced=event.unpriced,
        client_reported=event.cost_source == "client",
        reported_cost=reported_cost(event),
        source=event.source,
        via_gateway=event.source == "gateway",
        status=event.status,
        tags=list(event.tags),
    )


def event_rows(events: list[CostEvent], projects: dict[Any, str]) -> list[EventRow]:
    """A page of events whose costs share one number of decimal places."""
    places = usd_column_places(event.cost_usd for event in events if not event.unpriced)
    return [event_row(event, projects.get(event.project_id), places) for event in events]


@dataclasses.dataclass
class KeyRow:
    id: str = ""
    name: str = ""
    prefix: str = ""
    scopes: str = ""
    created: str = ""
    last_used: str = ""
    revocable: bool = False  # by the actor who reads the page


def key_row(key: ApiKey, *, revocable: bool) -> KeyRow:
    return KeyRow(
        id=str(key.id),
        name=key.name,
        prefix=f"{key.prefix}…",
        scopes=", ".join(key.scopes),
        created=format_day(key.created_at.date()),
        last_used=format_timestamp(key.last_used_at) if key.last_used_at else "never",
        revocable=revocable,
    )


@dataclasses.dataclass
class ProjectRow:
    id: str = ""
    name: str = ""
    created: str = ""


def project_row(project: Project) -> ProjectRow:
    return ProjectRow(
        id=str(project.id), name=project.name, created=format_day(project.created_at.date())
    )


@dataclasses.dataclass
class PriceOverrideRow:
    id: str = ""
    provider: str = ""
    model: str = ""
    input_per_mtok: str = ""
    output_per_mtok: str = ""
    cache_read_per_mtok: str = ""
    cache_write_per_mtok: str = ""
    valid_from: str = ""


def price_override_row(row: PriceOverride) -> PriceOverrideRow:
    return PriceOverrideRow(
        id=str(row.id),
        provider=row.provider,
        model=row.model,
        input_per_mtok=format_usd_exact(row.input_per_mtok),
        output_per_mtok=format_usd_exact(row.output_per_mtok),
        cache_read_per_mtok=format_usd_exact(row.cache_read_per_mtok),
        cache_write_per_mtok=format_usd_exact(row.cache_write_per_mtok),
        valid_from=format_day(row.valid_from.date()),
    )


@dataclasses.dataclass
class AlertRow:
    budget: str = ""
    period_start: str = ""
    what: str = ""
    spent: str = ""
    when: str = ""
    # The alert's webhook POST: "" when its budget had no webhook URL, else pending /
    # delivered / failed, how many attempts so far, and what the last failed one got.
    webhook_status: str = ""
    webhook_color: str = "gray"
    attempts: str = ""
    last_error: str = ""
    webhook_detail: str = ""


WEBHOOK_STATUS_COLORS = {"pending": "amber", "delivered": "grass", "failed": "red"}


def alert_row(
    alert: BudgetAlert, budget_names: dict[Any, str], delivery: WebhookDelivery | None = None
) -> AlertRow:
    what = (
        "Forecast to exceed the budget"
        if alert.kind == "forecast"
        else f"Crossed {alert.threshold}% of the budget"
    )
    row = AlertRow(
        budget=budget_names.get(alert.budget_id, MISSING),
        period_start=format_day(alert.period_start),
        what=what,
        spent=format_usd(alert.spent_usd),
        when=format_timestamp(alert.created_at),
        attempts=MISSING,
        last_error=MISSING,
    )
    if delivery is not None:
        row.webhook_status = delivery.status
        row.webhook_color = WEBHOOK_STATUS_COLORS.get(delivery.status, "gray")
        row.attempts = format_count(delivery.attempts)
        # A delivered row keeps the error of an earlier failed attempt: it no longer matters.
        if delivery.last_error and delivery.status != "delivered":
            row.last_error = delivery.last_error
        row.webhook_detail = webhook_detail(delivery)
    return row


def webhook_detail(delivery: WebhookDelivery) -> str:
    """When it was delivered, or when the next attempt is due."""
    if delivery.status == "delivered" and delivery.delivered_at:
        return f"delivered {format_timestamp(delivery.delivered_at)}"
    if delivery.status == "pending" and delivery.next_attempt_at and delivery.attempts:
        return f"next try {format_timestamp(delivery.next_attempt_at)}"
    if delivery.status == "pending":
        return "queued"
    return "gave up" if delivery.status == "failed" else ""


@dataclasses.dataclass
class BudgetView:
    id: str = ""
    name: str = ""
    scope: str = ""
    period: str = ""
    amount: str = ""
    spent: str = ""
    percent_label: str = ""
    bar_value: int = 0  # 0..100 for the progress bar
    color: str = "grass"
    status: str = ""
    hard_limit: bool = False
    thresholds: str = ""
    # The raw values the edit form starts from.
    amount_input: str = ""
    project_input: str = ""
    webhook_url: str = ""


def budget_color(percent: Decimal, *, forecast_exceeds: bool, thresholds: list[int]) -> str:
    """Red once spent, amber past the highest warning threshold or when the pace overshoots."""
    if percent >= 100:
        return styles.BUDGET_EXCEEDED
    warning = max((t for t in thresholds if t < 100), default=80)
    if forecast_exceeds or percent >= warning:
        return styles.BUDGET_WARNING
    return styles.BUDGET_OK


def budget_status_text(status: BudgetStatus, today: date) -> str:
    forecast = status.forecast
    runs_out = forecast.runs_out_on
    if status.exceeded:
        when = f" on {format_day(runs_out)}" if runs_out else ""
        return f"Exceeded{when}"
    if runs_out is not None and runs_out < status.period_end:
        return f"Exceeds on {format_day(runs_out)} at this pace"
    if forecast.projected > 0 and status.period_end > today:
        return f"On track: about {format_usd(forecast.projected)} by period end"
    return "On track"


def budget_view(status: BudgetStatus, today: date, *, show_webhook_url: bool = True) -> BudgetView:
    budget = status.budget
    percent = status.percent
    forecast_exceeds = (
        status.forecast.runs_out_on is not None and status.forecast.runs_out_on < status.period_end
    )
    return BudgetView(
        id=str(budget.id),
        name=budget.name,
        scope=status.project or "All projects",
        period=budget.period,
        amount=format_usd(budget.amount_usd),
        spent=format_usd(status.spent_usd),
        percent_label=f"{percent:.0f}%",
        bar_value=int(min(max(percent, Decimal(0)), Decimal(100))),
        color=budget_color(
            percent, forecast_exceeds=forecast_exceeds, thresholds=budget.alert_thresholds
        ),
        status=budget_status_text(status, today),
        hard_limit=budget.hard_limit,
        thresholds=", ".join(f"{t}%" for t in budget.alert_thresholds),
        amount_input=format(budget.amount_usd.normalize(), "f"),
        project_input=status.project or "",
        webhook_url=(budget.webhook_url or "") if show_webhook_url else "",
    )


@dataclasses.dataclass
class RecommendationView:
    kind: str = ""
    title: str = ""
    savings: str = ""
    evidence: str = ""
    assumption: str = ""
    action: str = ""
    risk: str = ""
    confidence: str = ""
    # What the what-if panel needs to reproduce a switch_model recommendation ("" otherwise).
    from_model: str = ""
    to_model: str = ""
    share_percent: str = ""


def percent_text(share: Decimal) -> str:
    """0.8 -> `80`, 0.125 -> `12.5`: a share as the percentage a person types."""
    return format((share * 100).normalize(), "f")


def recommendation_view(item: Recommendation) -> RecommendationView:
    evidence = item.evidence
    savings = item.monthly_savings_usd
    return RecommendationView(
        kind=item.kind,
        title=item.title,
        savings="price needed" if savings is None else f"save {format_usd(savings)}/mo",
        evidence=(
            f"Based on {format_count(evidence.calls)} calls to {shown_name(item.model, evidence)} "
            + (
                "with no known price"
                if savings is None
                else f"costing {format_usd(evidence.spend_usd)}"
            )
            + f" over the last {evidence.days} days. {item.assumption}"
        ),
        assumption=item.assumption,
        action=item.action,
        risk=item.risk,
        confidence=f"{item.confidence} confidence",
        from_model=item.from_model or "",
        to_model=item.to_model or "",
        share_percent="" if item.share is None else percent_text(item.share),
    )
