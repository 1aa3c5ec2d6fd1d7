"""Budget alert webhooks: the Slack-compatible payload, the outbox rows written in the alert's
own transaction, and delivering due rows with bounded, exponentially backed-off retries.

Delivery is at least once: a row is claimed by one worker at a time (a conditional UPDATE that
pushes `next_attempt_at` one lease ahead), so several workers or processes never send it
together; only a worker that dies after the receiver answered and before the result was
written makes it go out again, once its lease has run out. Receivers can deduplicate on
`alert_id`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine, Table, insert, select, update
from sqlmodel import Session, col

from llmlab_app.config import Settings
from llmlab_app.db.models import BudgetAlert, WebhookDelivery, utcnow
from llmlab_app.db.types import money_text
from llmlab_app.errors import AddressNotAllowed
from llmlab_app.metrics import WEBHOOK_DELIVERIES
from llmlab_app.services.outbound import Resolver, outbound_transport
from llmlab_app.services.webhook_secrets import (
    SIGNATURE_HEADER,
    signature_header,
    signing_secret_for_alert,
)
from llmlab_core.periods import last_day

if TYPE_CHECKING:
    from datetime import datetime

    from llmlab_app.services.budgets import BudgetStatus

logger = logging.getLogger("llmlab.webhooks")

USER_AGENT = "LLMLab-Webhooks/0.1"
# Client errors that a later attempt can fix; any other 4xx (Slack's 404 `no_service` for a
# removed webhook, 400 `invalid_payload`) will fail the same way every time.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
# How long a claimed row stays invisible to other workers, beyond the request timeout.
LEASE_MARGIN = timedelta(seconds=60)
MAX_ERROR_LENGTH = 500
# The metric's outcome for each status an attempt leaves its row in.
_OUTCOMES = {"delivered": "delivered", "pending": "retrying", "failed": "failed"}


# --- the payload ---------------------------------------------------------------------------


def alert_payload(
    status: BudgetStatus,
    *,
    alert_id: uuid.UUID,
    kind: str,
    threshold: int,
    created_at: datetime,
) -> dict[str, Any]:
    """The JSON body POSTed for one alert: Slack shows `text`; programs read the other keys
    (money as exact decimal strings, dates ISO 8601, `period_end` inclusive)."""
    budget, forecast = status.budget, status.forecast
    until = last_day(status.period_end)
    return {
        "text": alert_text(status, kind=kind, threshold=threshold),
        "event": "budget.alert",
        "alert_id": str(alert_id),
        "budget_id": str(budget.id),
        "budget_name": budget.name,
        "project": status.project,
        "period": budget.period,
        "period_start": status.period_start.isoformat(),
        "period_end": until.isoformat(),
        "kind": kind,
        "threshold": threshold,
        "spent_usd": money_text(status.spent_usd),
        "amount_usd": money_text(budget.amount_usd),
        "percent": money_text(status.percent),
        "exceeded": status.exceeded,
        "hard_limit": budget.hard_limit,
        "forecast": {
            "projected_usd": money_text(forecast.projected),
            "low_usd": money_text(forecast.low),
            "high_usd": money_text(forecast.high),
            "runs_out_on": forecast.runs_out_on.isoformat() if forecast.runs_out_on else None,
            "enough_data": forecast.enough_data,
            "method": forecast.method,
        },
        "created_at": created_at.isoformat(),
    }


def alert_text(status: BudgetStatus, *, kind: str, threshold: int) -> str:
    """One readable line (Slack mrkdwn, with `&`, `<`, `>` escaped as Slack requires)."""
    budget, forecast = status.budget, status.forecast
    until = last_day(status.period_end)
    scope = f"project {status.project}" if status.project else "all projects"
    name = f'LLMLab budget "{budget.name}" ({scope})'
    period = f"{budget.period} period {status.period_start} to {until}"
    if kind == "forecast":
        runs_out = f", reached on {forecast.runs_out_on}" if forecast.runs_out_on else ""
        text = (
            f"{name} is forecast to exceed its {_usd(budget.amount_usd)} limit: "
            f"{_usd(forecast.projected)} projected for the {period} "
            f"(range {_usd(forecast.low)} to {_usd(forecast.high)}{runs_out}); "
            f"{_usd(status.spent_usd)} spent so far."
        )
    else:
        reached = "is exceeded" if threshold >= 100 else f"has reached {threshold}%"
        outlook = (
            f" Forecast: {_usd(forecast.projected)} by {until}." if forecast.enough_data else ""
        )
        text = (
            f"{name} {reached}: {_usd(status.spent_usd)} of {_usd(budget.amount_usd)} "
            f"({money_text(status.percent)}%) spent in the {period}.{outlook}"
        )
    if status.exceeded and budget.hard_limit:
        text += " Hard limit: SDK clients with enforce_budget=True now refuse calls it covers."
    return _slack_escape(text)


def _usd(value: Decimal) -> str:
    places = Decimal("0.01") if value == 0 or abs(value) >= Decimal("0.1") else Decimal("0.0001")
    return f"${value.quantize(places):,}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the outbox ----------------------------------------------------------------------------


def add_deliveries(session: Session, alerts: Iterable[tuple[dict[str, Any], BudgetStatus]]) -> int:
    """Queue the webhook POST of each new alert whose budget has a URL, in the caller's
    transaction (so an alert is never committed without its delivery). Returns the count."""
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "org_id": alert["org_id"],
            "alert_id": alert["id"],
            "url": status.budget.webhook_url,
            "payload": alert_payload(
                status,
                alert_id=alert["id"],
                kind=alert["kind"],
                threshold=alert["threshold"],
                created_at=alert["created_at"],
            ),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for alert, status in alerts
        if status.budget.webhook_url
    ]
    if rows:
        session.execute(insert(_table()), rows)
    return len(rows)


@dataclass(frozen=True)
class DeliveryRecord:
    delivery: WebhookDelivery
    alert: BudgetAlert


def list_deliveries(
    session: Session, *, org_id: uuid.UUID, budget_id: uuid.UUID, limit: int = 200
) -> list[DeliveryRecord]:
    """The webhook delivery log of one of the organisation's budgets, newest first."""
    query = (
        select(WebhookDelivery, BudgetAlert)
        .join(BudgetAlert, col(BudgetAlert.id) == WebhookDelivery.alert_id)
        .where(WebhookDelivery.org_id == org_id, BudgetAlert.budget_id == budget_id)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
        .limit(limit)
    )
    return [DeliveryRecord(delivery, alert) for delivery, alert in session.execute(query).all()]


def deliveries_for_alerts(
    session: Session, *, org_id: uuid.UUID, alert_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, WebhookDelivery]:
    """alert id -> its webhook POST, for the organisation's alerts among `alert_ids` (an
    alert of a budget without a webhook URL has none): one query for a page of alerts."""
    wanted = list(alert_ids)
    if not wanted:
        return {}
    query = select(WebhookDelivery).where(
        WebhookDelivery.org_id == org_id, col(WebhookDelivery.alert_id).in_(wanted)
    )
    return {delivery.alert_id: delivery for delivery in session.scalars(query)}


# --- delivering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrySchedule:
    """Attempt n (1-based) that fails is retried after `backoff * 2**(n-1)`, at most
    `backoff_max`, until `max_attempts` have been made."""

    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=15)
    backoff_max: timedelta = timedelta(minutes=30)
    timeout_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrySchedule:
        return cls(
            max_attempts=settings.webhook_max_attempts,
            backoff=timedelta(seconds=settings.webhook_backoff_seconds),
            backoff_max=timedelta(seconds=settings.webhook_backoff_max_seconds),
            timeout_seconds=settings.webhook_timeout_seconds,
        )

    def delay_after(self, attempt: int, *, retry_after: timedelta | None = None) -> timedelta:
        """The wait before the next attempt; a receiver's Retry-After can lengthen it."""
        delay = min(self.backoff * 2 ** (attempt - 1), self.backoff_max)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_seconds) + LEASE_MARGIN


@dataclass(frozen=True)
class ClaimedDelivery:
    id: uuid.UUID
    alert_id: uuid.UUID
    url: str
    payload: dict[str, Any]
    attempt: int  # the number of this attempt; also fences the result write


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    retryable: bool = True
    retry_after: timedelta | None = None


@dataclass
class DeliveryPass:
    """What one `deliver_due_webhooks` call did."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def claim_due_delivery(
    engine: Engine, *, now: datetime, lease: timedelta
) -> ClaimedDelivery | None:
    """Take the oldest due row for this worker, or None when nothing is due.

    One conditional UPDATE: it only matches a row that is still pending and due, and it moves
    `next_attempt_at` past `now`, so no other worker matches it until the lease runs out
    (SKIP LOCKED lets concurrent PostgreSQL workers pass over a row being claimed; SQLite
    serialises writers anyway).
    """
    table = _table()
    due = (
        table.c.status == "pending",
        table.c.next_attempt_at.is_not(None),
        table.c.next_attempt_at <= now,
    )
    oldest_due = (
        select(table.c.id)
        .where(*due)
        .order_by(table.c.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(table)
        .where(table.c.id == oldest_due, *due)
        .values(
            attempts=table.c.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=now + lease,
        )
        .returning(table.c.id, table.c.alert_id, table.c.url, table.c.payload, table.c.attempts)
    )
    with engine.begin() as connection:
        row = connection.execute(statement).first()
    if row is None:
        return None
    return ClaimedDelivery(
        id=row.id, alert_id=row.alert_id, url=row.url, payload=row.payload, attempt=row.attempts
    )


def post_webhook(
    client: httpx.Client, delivery: ClaimedDelivery, *, secret: str, timestamp: int
) -> AttemptOutcome:
    """POST the payload once, signed; any 2xx is delivered. Never raises.

    The receiver's body is never read, nor kept: what an internal service answers must not
    reach the user through the delivery log. The log keeps the status code or the error's
    class."""
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-LLMLab-Alert-Id": str(delivery.payload.get("alert_id", "")),
        "X-LLMLab-Attempt": str(delivery.attempt),
        SIGNATURE_HEADER: signature_header(secret, body, timestamp=timestamp),
    }
    try:
        with client.stream("POST", delivery.url, content=body, headers=headers) as response:
            code = response.status_code
            retry_after = _retry_after(response)
    except AddressNotAllowed as exc:
        return AttemptOutcome(False, error=f"AddressNotAllowed: {exc.message}", retryable=False)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return AttemptOutcome(False, error=_error_class(exc), retryable=False)
    except Exception as exc:  # network errors, timeouts, anything else: try again later
        return AttemptOutcome(False, error=_error_class(exc))
    if 200 <= code < 300:
        return AttemptOutcome(True, status_code=code)
    return AttemptOutcome(
        False,
        status_code=code,
        error=f"HTTP {code}",
        retryable=code >= 500 or code in RETRYABLE_CLIENT_ERRORS,
        retry_after=retry_after,
    )


def record_attempt(
    engine: Engine,
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    *,
    now: datetime,
    schedule: RetrySchedule,
) -> str:
    """Write the attempt's result; returns the row's new status.

    Guarded by the attempt number: a worker whose lease ran out (and whose row another worker
    has claimed since) does not overwrite the newer attempt's record.
    """
    if outcome.delivered:
        values: dict[str, Any] = {
            "status": "delivered",
            "delivered_at": now,
            "next_attempt_at": None,
        }
    elif outcome.retryable and delivery.attempt < schedule.max_attempts:
        delay = schedule.delay_after(delivery.attempt, retry_after=outcome.retry_after)
        values = {"status": "pending", "next_attempt_at": now + delay}
    else:
        values = {"status": "failed", "next_attempt_at": None}
    values |= {"last_status_code": outcome.status_code, "last_error": outcome.error}
    table = _table()
    with engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == delivery.id, table.c.attempts == delivery.attempt)
            .values(**values)
        )
    return values["status"]


def deliver_due_webhooks(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    limit: int = 100,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryPass:
    """Send every delivery that is due (at most `limit`), one claimed row at a time.

    This is what the background worker runs on each tick; tests call it directly, with a
    fixed `now` to step through the retry schedule without sleeping.
    """
    schedule = RetrySchedule.from_settings(settings)
    own_client = client is None
    client = client or new_http_client(settings)
    result = DeliveryPass()
    try:
        while result.attempted < limit and not should_stop():
            claimed_at = now or utcnow()
            delivery = claim_due_delivery(engine, now=claimed_at, lease=schedule.lease)
            if delivery is None:
                break
            with Session(engine) as session:
                secret = signing_secret_for_alert(session, alert_id=delivery.alert_id)
            if secret is None:  # the budget was deleted since: its row is gone as well
                outcome = AttemptOutcome(False, error="AlertDeleted", retryable=False)
            else:
                timestamp = int(claimed_at.timestamp())
                outcome = post_webhook(client, delivery, secret=secret, timestamp=timestamp)
            status = record_attempt(
                engine, delivery, outcome, now=now or utcnow(), schedule=schedule
            )
            result.attempted += 1
            WEBHOOK_DELIVERIES.labels(outcome=_OUTCOMES[status]).inc()
            if status == "delivered":
                result.delivered += 1
            elif status == "failed":
                result.failed += 1
                logger.warning(
                    "webhook %s to %s failed after %d attempt(s): %s",
                    delivery.id,
                    _host(delivery.url),
                    delivery.attempt,
                    outcome.error,
                )
            else:
                result.retrying += 1
    finally:
        if own_client:
            client.close()
    return result


def new_http_client(settings: Settings, *, resolve: Resolver | None = None) -> httpx.Client:
    """One keep-alive client per worker. It connects to public addresses only (unless
    `LLMLAB_WEBHOOK_ALLOW_PRIVATE`), checked after resolving (services/outbound.py), and does
    not follow redirects: a webhook URL that redirects is reported, not chased (a redirect
    would be a way around the address check). `resolve` replaces the system resolver."""
    return httpx.Client(
        transport=outbound_transport(allow_private=settings.webhook_allow_private, resolve=resolve),
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
    )


def _table() -> Table:
    return WebhookDelivery.__table__  # type: ignore[attr-defined,no-any-return]


def _error_class(exc: BaseException) -> str:
    # The class only: a message such as "Connection refused" vs a timeout would tell the
    # user which ports are open on the host it names.
    return type(exc).__name__[:MAX_ERROR_LENGTH]


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "")
    return timedelta(seconds=int(value)) if value.isdigit() else None


def _host(url: str) -> str:
    # Logged instead of the URL: a Slack webhook URL is itself the secret.
    try:
        return httpx.URL(url).host or "?"
    except Exception:
        return "?"
