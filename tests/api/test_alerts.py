"""Budget alerts that act: recorded once, listed, and POSTed to a real local HTTP receiver by
the webhook worker, with bounded retries and a delivery log."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmlab_app.api import create_app
from llmlab_app.db.models import Budget, utcnow
from llmlab_app.services.budgets import budget_status, record_alerts
from llmlab_app.services.webhooks import (
    AttemptOutcome,
    RetrySchedule,
    claim_due_delivery,
    deliver_due_webhooks,
    record_attempt,
)
from tests.live_server import free_port
from tests.webhook_receiver import Receiver

DOLLARS_60_CENTS = {"model": "gpt-4o", "input_tokens": 240_000}  # $2.50 / M input tokens
DOLLARS_25_CENTS = {"model": "gpt-4o", "input_tokens": 100_000}
ONE_DOLLAR = {"model": "gpt-4o", "input_tokens": 400_000}


@pytest.fixture
def settings(settings: Any) -> Any:
    """No background thread (tests drive deliveries themselves), a short schedule (retries
    after 1 s, 2 s; 3 attempts at most) and private addresses allowed: the receiver is local."""
    return settings.model_copy(
        update={
            "webhook_worker_enabled": False,
            "webhook_allow_private": True,
            "webhook_backoff_seconds": 1.0,
            "webhook_backoff_max_seconds": 60.0,
            "webhook_max_attempts": 3,
            "webhook_timeout_seconds": 2.0,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _create_budget(account: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "monthly", "amount_usd": "1", "period": "monthly"} | fields
    response = account.client.post("/api/budgets", json=body, headers=account.key_headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def _deliveries(account: Any, budget_id: str) -> list[dict[str, Any]]:
    response = account.get(f"/api/budgets/{budget_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _deliver(app: Any, **kwargs: Any) -> Any:
    return deliver_due_webhooks(app.state.engine, app.state.settings, **kwargs)


def test_crossing_a_threshold_posts_one_slack_compatible_webhook(app, account, receiver):
    budget = _create_budget(account, name="Ops <prod> & co", webhook_url=receiver.url)
    account.track(DOLLARS_60_CENTS)
    assert _deliver(app).delivered == 1

    [payload] = receiver.payloads
    assert payload["text"].startswith('LLMLab budget "Ops &lt;prod&gt; &amp; co" (all projects)')
    assert "has reached 50%: $0.60 of $1.00 (60%) spent in the monthly period" in payload["text"]
    assert payload["event"] == "budget.alert"
    assert payload["budget_id"] == budget["id"] and payload["budget_name"] == "Ops <prod> & co"
    assert payload["period"] == "monthly" and payload["period_start"] == budget["period_start"]
    assert payload["period_end"] == budget["period_end"]
    assert (payload["kind"], payload["threshold"]) == ("threshold", 50)
    assert (payload["spent_usd"], payload["amount_usd"], payload["percent"]) == ("0.6", "1", "60")
    assert payload["exceeded"] is False and payload["hard_limit"] is False
    assert set(payload["forecast"]) == {
        "projected_usd",
        "low_usd",
        "high_usd",
        "runs_out_on",
        "enough_data",
        "method",
    }
    assert isinstance(payload["forecast"]["projected_usd"], str)
    [alert] = account.get(f"/api/budgets/{budget['id']}/alerts").json()["data"]
    assert payload["alert_id"] == alert["id"]
    assert receiver.requests[0]["headers"]["X-LLMLab-Alert-Id"] == alert["id"]

    # More spend below the next threshold: no new alert, nothing more is sent.
    account.track({"model": "gpt-4o", "input_tokens": 1_000})
    assert _deliver(app).attempted == 0
    account.track(DOLLARS_25_CENTS)  # $0.8525: crosses 80 %
    assert _deliver(app).delivered == 1
    assert [(p["kind"], p["threshold"]) for p in receiver.payloads] == [
        ("threshold", 50),
        ("threshold", 80),
    ]
    assert _deliver(app).attempted == 0

    log = _deliveries(account, budget["id"])
    assert [(d["threshold"], d["status"], d["attempts"]) for d in log] == [
        (80, "delivered", 1),
        (50, "delivered", 1),
    ]
    assert all(d["last_status_code"] == 200 and d["last_error"] is None for d in log)
    assert all(d["url"] == receiver.url and d["next_attempt_at"] is None for d in log)


def test_concurrent_trackers_crossing_a_threshold_make_one_alert_and_one_webhook(
    app, account, receiver
):
    budget = _create_budget(account, alert_thresholds=[100], webhook_url=receiver.url)
    writers = 8
    barrier = threading.Barrier(writers)
    exceeded: list[bool] = []

    def track(index: int) -> None:
        barrier.wait()
        # $2.50 each: every writer alone crosses 100 %, so all of them race to record it.
        event = {"model": "gpt-4o", "input_tokens": 1_000_000, "event_id": f"call-{index}"}
        response = account.track(event)
        assert response.status_code == 200, response.text
        exceeded.append(response.json()["data"]["budgets"][0]["exceeded"])

    threads = [threading.Thread(target=track, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert exceeded == [True] * writers

    alerts = account.get(f"/api/budgets/{budget['id']}/alerts").json()["data"]
    assert [(a["kind"], a["threshold"]) for a in alerts] == [("threshold", 100)]
    assert len(_deliveries(account, budget["id"])) == 1

    # Several workers (threads here, processes in production) poll at once: one POST.
    deliverers = 4
    barrier = threading.Barrier(deliverers)
    delivered: list[int] = []

    def deliver() -> None:
        barrier.wait()
        delivered.append(_deliver(app).delivered)

    threads = [threading.Thread(target=deliver) for _ in range(deliverers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(delivered) == [0] * (deliverers - 1) + [1]
    assert len(receiver.payloads) == 1
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"]) == ("delivered", 1)


def test_receiver_failing_twice_is_delivered_on_the_third_attempt(app, account, receiver):
    budget = _create_budget(account, alert_thresholds=[50], webhook_url=receiver.url)
    receiver.failures = [503, 500]
    account.track(DOLLARS_60_CENTS)
    t0 = utcnow()

    first = _deliver(app, now=t0)
    assert (first.attempted, first.retrying) == (1, 1)
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("pending", 1, 503)
    assert log["last_error"] == "HTTP 503"  # the receiver's body is never kept
    assert log["next_attempt_at"] == _iso(t0 + timedelta(seconds=1))

    assert _deliver(app, now=t0).attempted == 0  # not due before its backoff
    second = _deliver(app, now=t0 + timedelta(seconds=1))
    assert (second.attempted, second.retrying) == (1, 1)
    [log] = _deliveries(account, budget["id"])
    assert (log["attempts"], log["last_status_code"]) == (2, 500)
    assert log["next_attempt_at"] == _iso(t0 + timedelta(seconds=3))  # backoff doubled

    third = _deliver(app, now=t0 + timedelta(seconds=3))
    assert (third.attempted, third.delivered) == (1, 1)
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("delivered", 3, 200)
    assert log["last_error"] is None and log["next_attempt_at"] is None
    assert log["delivered_at"] == _iso(t0 + timedelta(seconds=3))

    assert [r["headers"]["X-LLMLab-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert len({p["alert_id"] for p in receiver.payloads}) == 1
    assert _deliver(app, now=t0 + timedelta(days=1)).attempted == 0


def test_receiver_that_is_down_gets_a_bounded_number_of_attempts(app, account):
    down = f"http://127.0.0.1:{free_port()}/nobody-listens"
    budget = _create_budget(account, alert_thresholds=[50], webhook_url=down)
    account.track(DOLLARS_60_CENTS)
    t0 = utcnow()

    passes = [_deliver(app, now=t0 + timedelta(seconds=s)) for s in (0, 1, 3)]
    assert [(p.attempted, p.retrying, p.failed) for p in passes] == [
        (1, 1, 0),
        (1, 1, 0),
        (1, 0, 1),
    ]
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("failed", 3, None)
    assert log["last_error"].startswith("ConnectError")
    assert log["next_attempt_at"] is None and log["delivered_at"] is None
    assert _deliver(app, now=t0 + timedelta(days=30)).attempted == 0


def test_a_client_error_is_not_retried(app, account, receiver):
    budget = _create_budget(account, alert_thresholds=[50], webhook_url=receiver.url)
    receiver.failures = [404]
    account.track(DOLLARS_60_CENTS)

    assert _deliver(app).failed == 1
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("failed", 1, 404)
    assert _deliver(app, now=utcnow() + timedelta(days=1)).attempted == 0


def test_retry_schedule_doubles_up_to_its_cap_and_honours_retry_after():
    schedule = RetrySchedule(
        max_attempts=8, backoff=timedelta(seconds=15), backoff_max=timedelta(minutes=30)
    )
    delays = [schedule.delay_after(n).total_seconds() for n in range(1, 9)]
    assert delays == [15, 30, 60, 120, 240, 480, 960, 1800]
    assert schedule.delay_after(1, retry_after=timedelta(seconds=90)) == timedelta(seconds=90)
    assert schedule.delay_after(1, retry_after=timedelta(hours=5)) == timedelta(minutes=30)


def test_a_delivery_claimed_by_a_worker_that_died_is_sent_after_its_lease(app, account, receiver):
    budget = _create_budget(account, alert_thresholds=[50], webhook_url=receiver.url)
    account.track(DOLLARS_60_CENTS)
    schedule = RetrySchedule.from_settings(app.state.settings)
    t0 = utcnow()

    # A worker claims the row, then its process dies before it records anything.
    lost = claim_due_delivery(app.state.engine, now=t0, lease=schedule.lease)
    assert lost is not None and lost.attempt == 1
    assert _deliver(app, now=t0 + schedule.lease - timedelta(seconds=1)).attempted == 0

    assert _deliver(app, now=t0 + schedule.lease).delivered == 1
    assert len(receiver.payloads) == 1
    # The dead worker's late report does not overwrite the newer attempt.
    late = AttemptOutcome(False, error="ReadTimeout")
    record_attempt(app.state.engine, lost, late, now=t0 + schedule.lease, schedule=schedule)
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"], log["last_error"]) == ("delivered", 2, None)


def test_a_pending_delivery_survives_a_restart_and_the_background_worker_sends_it(
    app, settings, engine, account, receiver
):
    budget = _create_budget(account, alert_thresholds=[50], webhook_url=receiver.url)
    account.track(DOLLARS_60_CENTS)  # recorded by a process whose worker never ran
    assert _deliveries(account, budget["id"])[0]["status"] == "pending"

    restarted = create_app(
        settings.model_copy(update={"webhook_worker_enabled": True, "webhook_poll_seconds": 0.05}),
        engine,
    )
    with TestClient(restarted):
        deadline = time.monotonic() + 10
        while not receiver.payloads and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.payloads) == 1
        deadline = time.monotonic() + 10
        while _deliveries(account, budget["id"])[0]["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        account.track(DOLLARS_25_CENTS)  # crosses nothing new
        time.sleep(0.3)
    assert len(receiver.payloads) == 1
    [log] = _deliveries(account, budget["id"])
    assert (log["status"], log["attempts"]) == ("delivered", 1)


def test_forecast_overrun_alerts_once_with_the_forecast_in_the_payload(
    app, account, receiver, session
):
    # $1 a day from 20 February to 10 March 2026; on 10 March a $20 March budget has $10
    # spent and 21 days to go at $1 a day: $31 projected, the limit reached on 20 March.
    days = [date(2026, 2, 20) + timedelta(days=n) for n in range(19)]
    assert account.track(*[ONE_DOLLAR | {"timestamp": f"{d}T12:00:00Z"} for d in days]).is_success
    created = _create_budget(
        account, amount_usd="20", alert_thresholds=[1000], webhook_url=receiver.url
    )
    budget = session.get(Budget, uuid.UUID(created["id"]))
    status = budget_status(session, budget, today=date(2026, 3, 10))
    assert status.forecast.enough_data and status.forecast.projected == Decimal(31)

    [alert] = record_alerts(session, [status])
    assert (alert.kind, alert.threshold, alert.period_start) == ("forecast", 100, date(2026, 3, 1))
    assert record_alerts(session, [status]) == []  # once per period
    assert _deliver(app).delivered == 1

    [payload] = receiver.payloads
    assert (payload["kind"], payload["spent_usd"], payload["amount_usd"]) == (
        "forecast",
        "10",
        "20",
    )
    assert payload["period_start"] == "2026-03-01" and payload["period_end"] == "2026-03-31"
    forecast = payload["forecast"]
    assert forecast["projected_usd"] == "31" and forecast["enough_data"] is True
    assert forecast["runs_out_on"] == "2026-03-20"
    assert Decimal(forecast["low_usd"]) <= 31 <= Decimal(forecast["high_usd"])
    assert "is forecast to exceed its $20.00 limit: $31.00 projected" in payload["text"]
    assert "reached on 2026-03-20" in payload["text"]


def test_get_alerts_lists_every_budget_newest_first(account):
    first = _create_budget(account, name="all", alert_thresholds=[50])
    account.client.post("/api/projects", json={"name": "web"}, headers=account.key_headers)
    second = _create_budget(account, name="web", project="web", alert_thresholds=[50])
    account.track(DOLLARS_60_CENTS)
    account.track(DOLLARS_60_CENTS | {"project": "web"})
    alerts = account.get("/api/alerts").json()["data"]
    assert [a["budget_id"] for a in alerts] == [second["id"], first["id"]]
    assert account.get("/api/alerts", limit=1).json()["data"] == alerts[:1]


def test_a_budget_without_a_webhook_records_alerts_and_queues_nothing(app, account):
    budget = _create_budget(account, alert_thresholds=[50])
    account.track(DOLLARS_60_CENTS)
    assert len(account.get(f"/api/budgets/{budget['id']}/alerts").json()["data"]) == 1
    assert _deliveries(account, budget["id"]) == []
    assert _deliver(app).attempted == 0


def test_alerts_and_deliveries_are_private(account, other_account, receiver):
    budget = _create_budget(account, alert_thresholds=[50], webhook_url=receiver.url)
    account.track(DOLLARS_60_CENTS)
    for path in (f"/api/budgets/{budget['id']}/deliveries", f"/api/budgets/{budget['id']}/alerts"):
        assert other_account.get(path).status_code == 404
        assert account.get(path).status_code == 200
    assert other_account.get("/api/alerts").json()["data"] == []
    assert len(account.get("/api/alerts").json()["data"]) == 1


def test_an_exceeded_hard_limit_is_reported_and_events_are_still_recorded(account):
    budget = _create_budget(account, amount_usd="0.5", hard_limit=True)
    for _ in range(2):
        response = account.track(DOLLARS_60_CENTS)
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["events"][0]["duplicate"] is False and data["events"][0]["id"]
        [brief] = data["budgets"]
        assert brief["exceeded"] is True and brief["hard_limit"] is True
    [listed] = account.get("/api/budgets").json()["data"]
    assert listed["id"] == budget["id"] and listed["exceeded"] is True
    assert listed["spent_usd"] == "1.2"


def _iso(moment: Any) -> str:
    """How the API writes an aware UTC datetime."""
    return moment.isoformat().replace("+00:00", "Z")
