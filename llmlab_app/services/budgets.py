"""Budgets with their live status (spent, remaining, forecast) and threshold alerts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlmodel import Session, col, select

from llmlab_app.db.models import Budget, BudgetAlert, utcnow
from llmlab_app.db.types import money_text
from llmlab_app.db.upsert import insert_ignoring_conflicts
from llmlab_app.errors import InvalidInput
from llmlab_app.services import audit, webhooks
from llmlab_app.services.change_feed import record_change
from llmlab_app.services.outbound import check_webhook_url
from llmlab_app.services.permissions import Actor, Permission, require
from llmlab_app.services.projects import project_names, require_project_id
from llmlab_app.services.spend import forecast_period
from llmlab_core import Forecast

Period = Literal["daily", "weekly", "monthly"]
DEFAULT_THRESHOLDS = (50, 80, 100)


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    project: str | None
    period_start: date
    period_end: date  # exclusive
    spent_usd: Decimal
    remaining_usd: Decimal
    percent: Decimal
    exceeded: bool
    forecast: Forecast


def _check_thresholds(thresholds: Iterable[int]) -> list[int]:
    values = sorted(set(thresholds))
    if not values or any(not 1 <= value <= 1000 for value in values):
        raise InvalidInput("alert_thresholds must be percentages between 1 and 1000")
    return values


def _check_webhook_url(url: str | None, *, allow_private: bool) -> str | None:
    return check_webhook_url(url, allow_private=allow_private) if url else None


MIN_AMOUNT_USD = Decimal("0.01")
MAX_AMOUNT_USD = Decimal(100_000_000)


def _check_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite() or not MIN_AMOUNT_USD <= amount <= MAX_AMOUNT_USD:
        raise InvalidInput(f"amount_usd must be between {MIN_AMOUNT_USD} and {MAX_AMOUNT_USD}")
    return amount


def create_budget(
    session: Session,
    *,
    actor: Actor,
    name: str,
    amount_usd: Decimal,
    period: Period,
    project: str | None = None,
    alert_thresholds: Iterable[int] = DEFAULT_THRESHOLDS,
    webhook_url: str | None = None,
    hard_limit: bool = False,
    allow_private_webhooks: bool = False,
) -> Budget:
    """A budget of the actor's organisation (admins and owners). A `webhook_url` must lead
    to a public address unless `allow_private_webhooks` (`LLMLAB_WEBHOOK_ALLOW_PRIVATE`);
    else `InvalidInput`."""
    require(actor, Permission.MANAGE_BUDGETS)
    budget = Budget(
        org_id=actor.org_id,
        name=name,
        amount_usd=_check_amount(amount_usd),
        period=period,
        project_id=require_project_id(session, org_id=actor.org_id, name=project),
        alert_thresholds=_check_thresholds(alert_thresholds),
        webhook_url=_check_webhook_url(webhook_url, allow_private=allow_private_webhooks),
        hard_limit=hard_limit,
    )
    session.add(budget)
    session.flush()
    _audit(session, actor, "budget.created", budget, _budget_fields(budget))
    session.commit()
    record_change(actor.org_id)
    return budget


def get_budget(session: Session, *, org_id: uuid.UUID, budget_id: uuid.UUID) -> Budget | None:
    budget = session.get(Budget, budget_id)
    return budget if budget is not None and budget.org_id == org_id else None


def update_budget(
    session: Session,
    *,
    actor: Actor,
    budget_id: uuid.UUID,
    changes: dict[str, object],
    allow_private_webhooks: bool = False,
) -> Budget | None:
    """Apply the given fields (name, amount_usd, period, project, alert_thresholds,
    webhook_url, hard_limit); None when the budget is not the organisation's. The webhook
    URL is checked as in `create_budget`."""
    require(actor, Permission.MANAGE_BUDGETS)
    budget = get_budget(session, org_id=actor.org_id, budget_id=budget_id)
    if budget is None:
        return None
    before = _budget_fields(budget)
    for field, value in changes.items():
        if field == "amount_usd":
            budget.amount_usd = _check_amount(value)  # type: ignore[arg-type]
        elif field == "alert_thresholds":
            budget.alert_thresholds = _check_thresholds(value)  # type: ignore[arg-type]
        elif field == "project":
            budget.project_id = require_project_id(session, org_id=actor.org_id, name=value)  # type: ignore[arg-type]
        elif field == "webhook_url":
            budget.webhook_url = _check_webhook_url(
                value,  # type: ignore[arg-type]
                allow_private=allow_private_webhooks,
            )
        elif field in {"name", "period", "hard_limit"}:
            setattr(budget, field, value)
        else:
            raise InvalidInput(f"unknown budget field {field!r}")
    budget.updated_at = utcnow()
    session.add(budget)
    after = _budget_fields(budget)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    _audit(session, actor, "budget.updated", budget, changed)
    session.commit()
    record_change(actor.org_id)
    return budget


def delete_budget(session: Session, *, actor: Actor, budget_id: uuid.UUID) -> bool:
    """False when the budget is not the organisation's."""
    require(actor, Permission.MANAGE_BUDGETS)
    budget = get_budget(session, org_id=actor.org_id, budget_id=budget_id)
    if budget is None:
        return False
    _audit(session, actor, "budget.deleted", budget, _budget_fields(budget))
    session.delete(budget)
    session.commit()
    record_change(actor.org_id)
    return True


def _budget_fields(budget: Budget) -> dict[str, Any]:
    """What the audit log keeps of a budget (JSON: money as decimal strings)."""
    return {
        "name": budget.name,
        "amount_usd": money_text(budget.amount_usd),
        "period": budget.period,
        "project_id": str(budget.project_id) if budget.project_id else None,
        "alert_thresholds": list(budget.alert_thresholds),
        "webhook_url": budget.webhook_url,
        "hard_limit": budget.hard_limit,
    }


def _audit(
    session: Session, actor: Actor, action: str, budget: Budget, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target=budget.name,
        details={"budget_id": str(budget.id), **details},
    )


def list_budgets(session: Session, *, org_id: uuid.UUID) -> list[Budget]:
    return list(
        session.exec(select(Budget).where(Budget.org_id == org_id).order_by(col(Budget.created_at)))
    )


def budget_status(session: Session, budget: Budget, *, today: date | None = None) -> BudgetStatus:
    """Spend in the budget's current period (UTC) and the forecast for its end."""
    period = forecast_period(
        session,
        org_id=budget.org_id,
        period=budget.period,  # type: ignore[arg-type]
        project_id=budget.project_id,
        limit_usd=budget.amount_usd,
        today=today,
    )
    start, end, forecast = period.period_start, period.period_end, period.forecast
    spent = forecast.spent
    names = project_names(session, ids=[budget.project_id] if budget.project_id else [])
    return BudgetStatus(
        budget=budget,
        project=names.get(budget.project_id) if budget.project_id else None,
        period_start=start,
        period_end=end,
        spent_usd=spent,
        remaining_usd=max(budget.amount_usd - spent, Decimal(0)),
        percent=(spent * 100 / budget.amount_usd).quantize(Decimal("0.01")),
        exceeded=spent >= budget.amount_usd,
        forecast=forecast,
    )


def budget_statuses(
    session: Session, *, org_id: uuid.UUID, project_ids: Iterable[uuid.UUID | None] | None = None
) -> list[BudgetStatus]:
    """Status of every budget, or only of those covering events in `project_ids`."""
    budgets = list_budgets(session, org_id=org_id)
    if project_ids is not None:
        touched = set(project_ids)
        budgets = [b for b in budgets if b.project_id is None or b.project_id in touched]
    return [budget_status(session, budget) for budget in budgets]


def hard_budget_statuses(session: Session, *, org_id: uuid.UUID) -> list[BudgetStatus]:
    """Status of the organisation's budgets with `hard_limit` (the ones that stop calls)."""
    budgets = list_budgets(session, org_id=org_id)
    return [budget_status(session, budget) for budget in budgets if budget.hard_limit]


def record_alerts(session: Session, statuses: Iterable[BudgetStatus]) -> list[BudgetAlert]:
    """Record each crossed threshold (and a forecast overrun) once per budget period, and
    queue its webhook delivery in the same transaction.

    The unique key (budget, period_start, kind, threshold) makes this exact under concurrent
    writers: only the transaction that inserts the row gets it back, so only that one queues
    the webhook.
    """
    candidates: list[tuple[dict[str, Any], BudgetStatus]] = []
    for status in statuses:
        budget = status.budget
        for threshold in budget.alert_thresholds:
            if status.spent_usd * 100 >= budget.amount_usd * threshold:
                candidates.append((_alert_row(status, "threshold", threshold), status))
        if status.forecast.enough_data and status.forecast.projected > budget.amount_usd:
            candidates.append((_alert_row(status, "forecast", 100), status))
    if not candidates:
        return []
    inserted = insert_ignoring_conflicts(
        session,
        BudgetAlert,
        [row for row, _ in candidates],
        conflict_columns=["budget_id", "period_start", "kind", "threshold"],
        returning=["id"],
    )
    ids = [row[0] for row in inserted]
    webhooks.add_deliveries(session, [(row, s) for row, s in candidates if row["id"] in ids])
    session.commit()
    if not ids:
        return []
    return list(session.exec(select(BudgetAlert).where(col(BudgetAlert.id).in_(ids))))


def _alert_row(status: BudgetStatus, kind: str, threshold: int) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "org_id": status.budget.org_id,
        "budget_id": status.budget.id,
        "period_start": status.period_start,
        "kind": kind,
        "threshold": threshold,
        "spent_usd": status.spent_usd,
        "created_at": utcnow(),
    }


def list_alerts(
    session: Session,
    *,
    org_id: uuid.UUID,
    budget_id: uuid.UUID | None = None,
    limit: int | None = None,
) -> list[BudgetAlert]:
    """The organisation's alerts (of one budget, or of all), newest first."""
    query = (
        select(BudgetAlert)
        .where(BudgetAlert.org_id == org_id)
        .order_by(col(BudgetAlert.created_at).desc(), col(BudgetAlert.id))
    )
    if budget_id is not None:
        query = query.where(BudgetAlert.budget_id == budget_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def budgets_after_tracking(
    session: Session,
    *,
    org_id: uuid.UUID,
    project_ids: list[set[uuid.UUID]],
    budgets: list[Budget] | None = None,
) -> list[list[BudgetStatus]]:
    """The budgets that just-stored events fall under, for several requests of one
    organisation committed together (one set of project ids per request), crossed alerts
    recorded: the budget list is read once (or given), each status computed once; each
    request gets the budgets its events fall under."""
    if budgets is None:
        budgets = list_budgets(session, org_id=org_id)
    if not budgets:
        return [[] for _ in project_ids]
    touched: set[uuid.UUID | None] = {None}
    touched.update(*project_ids)
    statuses = [
        budget_status(session, budget)
        for budget in budgets
        if budget.project_id is None or budget.project_id in touched
    ]
    record_alerts(session, statuses)
    return [
        [s for s in statuses if s.budget.project_id is None or s.budget.project_id in ids]
        for ids in project_ids
    ]
