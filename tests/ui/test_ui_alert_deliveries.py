"""The budgets page's alert history shows each alert's webhook delivery."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine

from llmlab_app.services import budgets, orgs, webhooks
from llmlab_app.services.ingest import EventIn, ingest_events_blocking
from llmlab_app.services.pages import read_budgets
from llmlab_app.ui.states.views import AlertRow, alert_row
from tests.conftest import signup_through_service


def _rows(session: Any, actor: Any) -> dict[str, AlertRow]:
    data = read_budgets(session, actor=actor)
    names = {s.budget.id: s.budget.name for s in data.statuses}
    rows = [alert_row(a, names, data.deliveries.get(a.id)) for a in data.alerts]
    return {row.budget: row for row in rows}


def _answering(status: int) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(status, text="no")))


def test_alert_rows_follow_their_webhook_from_queued_to_retrying_to_delivered(
    session: Any, settings: Any, engine: Engine
) -> None:
    user = signup_through_service(session, settings, "ada@example.com").tokens.user
    actor = orgs.actor_for(session, user=user)
    for name, url in (("Hooked", "https://hooks.example.com/T0/B0/x"), ("Quiet", None)):
        budgets.create_budget(
            session,
            actor=actor,
            name=name,
            amount_usd=Decimal("0.01"),
            period="monthly",
            alert_thresholds=[100],
            webhook_url=url,
        )
    batch = [
        EventIn(
            provider="openai",
            model="gpt-4o",
            input_tokens=100_000,
            output_tokens=10_000,
            timestamp=datetime.now(UTC),
        )
    ]
    ingest_events_blocking(session.get_bind(), org_id=actor.org_id, source="api", events=batch)
    session.commit()

    rows = _rows(session, actor)
    assert rows["Quiet"].webhook_status == "" and rows["Quiet"].attempts == "\u2014"
    queued = rows["Hooked"]
    assert (queued.webhook_status, queued.attempts, queued.webhook_detail) == (
        "pending",
        "0",
        "queued",
    )

    webhooks.deliver_due_webhooks(engine, settings, client=_answering(503))
    session.expire_all()
    retrying = _rows(session, actor)["Hooked"]
    assert (retrying.webhook_status, retrying.webhook_color, retrying.attempts) == (
        "pending",
        "amber",
        "1",
    )
    assert retrying.last_error == "HTTP 503"
    assert retrying.webhook_detail.startswith("next try ")

    due_later = datetime.now(UTC) + settings_backoff(settings)
    webhooks.deliver_due_webhooks(engine, settings, client=_answering(200), now=due_later)
    session.expire_all()
    delivered = _rows(session, actor)["Hooked"]
    assert (delivered.webhook_status, delivered.webhook_color, delivered.attempts) == (
        "delivered",
        "grass",
        "2",
    )
    assert delivered.last_error == "\u2014"  # the earlier failure no longer matters
    assert delivered.webhook_detail.startswith("delivered ")


def settings_backoff(settings: Any) -> Any:
    return webhooks.RetrySchedule.from_settings(settings).backoff_max


def test_a_viewer_sees_budgets_without_their_webhook_urls_or_delivery_log(
    session: Any, settings: Any
) -> None:
    from dataclasses import replace

    from llmlab_app.services.permissions import Role
    from llmlab_app.ui.states.views import budget_view

    owner = orgs.actor_for(
        session, user=signup_through_service(session, settings, "ada@example.com").tokens.user
    )
    budgets.create_budget(
        session,
        actor=owner,
        name="Hooked",
        amount_usd=Decimal("0.01"),
        period="monthly",
        alert_thresholds=[100],
        webhook_url="https://hooks.example.com/T0/B0/secret-part",
    )
    batch = [EventIn(provider="openai", model="gpt-4o", input_tokens=100_000)]
    ingest_events_blocking(session.get_bind(), org_id=owner.org_id, source="api", events=batch)
    as_owner = read_budgets(session, actor=owner)
    as_viewer = read_budgets(session, actor=replace(owner, role=Role.VIEWER))
    assert len(as_owner.deliveries) == 1 and as_viewer.deliveries == {}
    (status,) = as_viewer.statuses
    today = datetime.now(UTC).date()
    assert budget_view(status, today, show_webhook_url=as_viewer.shows_webhooks).webhook_url == ""
    assert "secret-part" in budget_view(status, today, show_webhook_url=True).webhook_url
