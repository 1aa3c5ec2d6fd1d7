"""What each dashboard page reads: one call per page, in one session, returning the page's
data (service results, detached from the session). The states format it; they never query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from llmlab_app.db.models import BudgetAlert, WebhookDelivery
from llmlab_app.services import budgets, projects, savings, spend, webhooks
from llmlab_app.services.permissions import Actor, Permission, require
from llmlab_core import Forecast, Recommendation
from llmlab_core.periods import last_day

ALERTS_SHOWN = 50  # newest first, with their webhook deliveries


@dataclass
class OverviewPage:
    """Everything the overview shows for one filter."""

    summary: spend.SpendSummary
    today: spend.SpendTotals
    forecast: Forecast
    month_end: date
    budgets: list[budgets.BudgetStatus]
    recommendations: list[Recommendation]
    project_names: list[str]


def read_overview(
    session: Session,
    *,
    org_id: uuid.UUID,
    start: date | None,
    end: date | None,
    project: str | None,
    today: date,
) -> OverviewPage:
    summary = spend.summarize_spend(session, org_id=org_id, start=start, end=end, project=project)
    today_summary = spend.summarize_spend(
        session, org_id=org_id, start=today, end=today, project=project
    )
    project_id = projects.require_project_id(session, org_id=org_id, name=project)
    month = spend.forecast_period(
        session, org_id=org_id, period="monthly", project_id=project_id, today=today
    )
    statuses = budgets.budget_statuses(
        session, org_id=org_id, project_ids=None if project is None else [project_id]
    )
    return OverviewPage(
        summary=summary,
        today=today_summary.totals,
        forecast=month.forecast,
        month_end=last_day(month.period_end),
        budgets=statuses,
        recommendations=savings.list_recommendations(session, org_id=org_id, project=project),
        project_names=[p.name for p in projects.list_projects(session, org_id=org_id)],
    )


@dataclass
class BudgetsPage:
    statuses: list[budgets.BudgetStatus]
    alerts: list[BudgetAlert]
    project_names: list[str]
    # alert id -> its webhook POST (alerts of budgets without a webhook URL have none)
    deliveries: dict[uuid.UUID, WebhookDelivery] = field(default_factory=dict)
    # Webhook URLs (Slack's hold a secret) and delivery logs are for who manages webhooks.
    shows_webhooks: bool = True


def read_budgets(session: Session, *, actor: Actor) -> BudgetsPage:
    require(actor, Permission.READ)
    org_id = actor.org_id
    shows_webhooks = actor.may(Permission.MANAGE_WEBHOOKS)
    alerts = budgets.list_alerts(session, org_id=org_id, limit=ALERTS_SHOWN)
    deliveries = (
        webhooks.deliveries_for_alerts(
            session, org_id=org_id, alert_ids=[alert.id for alert in alerts]
        )
        if shows_webhooks
        else {}
    )
    return BudgetsPage(
        statuses=budgets.budget_statuses(session, org_id=org_id),
        alerts=alerts,
        project_names=[p.name for p in projects.list_projects(session, org_id=org_id)],
        deliveries=deliveries,
        shows_webhooks=shows_webhooks,
    )
