"""Budgets with live status and forecast, their alert history and webhook delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from llmlab_app.api.deps import (
    BudgetManager,
    BudgetReader,
    DeliveryReader,
    Reader,
    SessionDep,
    SettingsDep,
)
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import budget_out
from llmlab_app.api.schemas import AlertOut, BudgetIn, BudgetOut, BudgetUpdate, DeliveryOut
from llmlab_app.errors import NotFound
from llmlab_app.services import budgets, webhooks
from llmlab_app.services.permissions import Permission

router = APIRouter(prefix="/api/budgets", tags=["budgets"])
alerts_router = APIRouter(prefix="/api/alerts", tags=["budgets"])


@router.get("", response_model=Envelope[list[BudgetOut]])
def list_budgets(actor: BudgetReader, session: SessionDep) -> Envelope[list[BudgetOut]]:
    """Every budget with its current period's spend, remaining amount and forecast (the SDK's
    budget guard reads it with an `ingest` key). `webhook_url` is null unless the caller
    manages webhooks (and, with a key, its scope is `admin`)."""
    statuses = budgets.budget_statuses(session, org_id=actor.org_id)
    show = actor.may(Permission.MANAGE_WEBHOOKS)
    return ok([budget_out(s, show_webhook_url=show) for s in statuses])


@router.post("", status_code=201, response_model=Envelope[BudgetOut])
def create_budget(
    body: BudgetIn, actor: BudgetManager, session: SessionDep, settings: SettingsDep
) -> Envelope[BudgetOut]:
    """Create a budget (all projects, or one); thresholds default to 50/80/100 %. A
    `webhook_url` must lead to a public address (422 otherwise)."""
    budget = budgets.create_budget(
        session,
        actor=actor,
        name=body.name,
        amount_usd=body.amount_usd,
        period=body.period,
        project=body.project,
        alert_thresholds=body.alert_thresholds,
        webhook_url=str(body.webhook_url) if body.webhook_url else None,
        hard_limit=body.hard_limit,
        allow_private_webhooks=settings.webhook_allow_private,
    )
    return ok(budget_out(budgets.budget_status(session, budget)))


@router.put("/{budget_id}", response_model=Envelope[BudgetOut])
def update_budget(
    budget_id: uuid.UUID,
    body: BudgetUpdate,
    actor: BudgetManager,
    session: SessionDep,
    settings: SettingsDep,
) -> Envelope[BudgetOut]:
    """Change the fields given; the others stay as they are."""
    changes = body.model_dump(exclude_unset=True)
    if "webhook_url" in changes and changes["webhook_url"] is not None:
        changes["webhook_url"] = str(body.webhook_url)
    budget = budgets.update_budget(
        session,
        actor=actor,
        budget_id=budget_id,
        changes=changes,
        allow_private_webhooks=settings.webhook_allow_private,
    )
    if budget is None:
        raise NotFound("budget not found")
    return ok(budget_out(budgets.budget_status(session, budget)))


@router.delete("/{budget_id}", response_model=Envelope[dict])
def delete_budget(
    budget_id: uuid.UUID, actor: BudgetManager, session: SessionDep
) -> Envelope[dict]:
    """Delete a budget and its alert history."""
    if not budgets.delete_budget(session, actor=actor, budget_id=budget_id):
        raise NotFound("budget not found")
    return ok({"deleted": True, "id": str(budget_id)})


@router.get("/{budget_id}/alerts", response_model=Envelope[list[AlertOut]])
def list_alerts(
    budget_id: uuid.UUID, actor: Reader, session: SessionDep
) -> Envelope[list[AlertOut]]:
    """Alerts recorded for a budget, newest first."""
    if budgets.get_budget(session, org_id=actor.org_id, budget_id=budget_id) is None:
        raise NotFound("budget not found")
    alerts = budgets.list_alerts(session, org_id=actor.org_id, budget_id=budget_id)
    return ok([AlertOut.model_validate(a, from_attributes=True) for a in alerts])


@router.get("/{budget_id}/deliveries", response_model=Envelope[list[DeliveryOut]])
def list_deliveries(
    budget_id: uuid.UUID,
    actor: DeliveryReader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Envelope[list[DeliveryOut]]:
    """The webhook delivery log of a budget's alerts, newest first: status, attempts, the
    receiver's last status code or error, and when the next retry is due."""
    if budgets.get_budget(session, org_id=actor.org_id, budget_id=budget_id) is None:
        raise NotFound("budget not found")
    records = webhooks.list_deliveries(
        session, org_id=actor.org_id, budget_id=budget_id, limit=limit
    )
    return ok([_delivery_out(record) for record in records])


@alerts_router.get("", response_model=Envelope[list[AlertOut]])
def list_all_alerts(
    actor: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Envelope[list[AlertOut]]:
    """Alerts of every budget, newest first."""
    alerts = budgets.list_alerts(session, org_id=actor.org_id, limit=limit)
    return ok([AlertOut.model_validate(a, from_attributes=True) for a in alerts])


def _delivery_out(record: webhooks.DeliveryRecord) -> DeliveryOut:
    delivery, alert = record.delivery, record.alert
    return DeliveryOut(
        id=delivery.id,
        alert_id=alert.id,
        kind=alert.kind,
        threshold=alert.threshold,
        period_start=alert.period_start,
        url=delivery.url,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
    )
