"""Retention (LLMLAB_RETENTION_DAYS): raw events past the window are deleted in batches off
the request path; the daily rollups stay, so every figure built on them is unchanged; and
tracking refuses events older than the window, which could no longer be told apart from
repeats."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from llmlab_app.api import create_app
from llmlab_app.db.models import CostEvent, DailySpend
from llmlab_app.services.retention import delete_expired_events
from llmlab_app.workers import BackgroundWorkers
from tests.conftest import Account, earlier_today

DAYS_AGO = (90, 61, 45, 31, 29, 10, 2)


def _raw_events(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(CostEvent)).scalar_one()


def _rollup_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(select(DailySpend.__table__)).all()  # type: ignore[attr-defined]
    return sorted(tuple(row) for row in rows)


def _track_history(account: Account, now: datetime) -> None:
    events = []
    for index, days in enumerate(DAYS_AGO):
        for model, tokens in (("gpt-4o", 120_000), ("claude-sonnet-4-20250514", 80_000)):
            events.append(
                {
                    "event_id": f"{model}-{days}",
                    "model": model,
                    "input_tokens": tokens + index,
                    "output_tokens": 4_000,
                    "timestamp": (now - timedelta(days=days)).isoformat(),
                    "project": "support" if index % 2 else "search",
                }
            )
    events.append(
        {
            "model": "gpt-4o-mini",
            "input_tokens": 9_000,
            "output_tokens": 700,
            "timestamp": earlier_today(now, 30).isoformat(),
            "project": "search",
        }
    )
    response = account.track(*events)
    assert response.status_code == 200, response.text


def _figures(account: Account, now: datetime) -> dict[str, Any]:
    """Everything the API computes from spend, without the envelopes' timestamps."""
    start = (now - timedelta(days=120)).date().isoformat()
    answers = {
        "summary 120 days": account.get("/api/costs/summary", start=start),
        "summary this month": account.get("/api/costs/summary"),
        "summary support": account.get("/api/costs/summary", start=start, project="support"),
        "forecast monthly": account.get("/api/costs/forecast"),
        "forecast weekly": account.get("/api/costs/forecast", period="weekly"),
        "budgets": account.get("/api/budgets"),
        "recommendations": account.get("/api/recommendations"),
        "what-if": account.client.post(
            "/api/whatif",
            json={"from_model": "gpt-4o", "to_model": "gpt-4o-mini", "start": start},
            headers=account.key_headers,
        ),
    }
    figures = {}
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
        figures[name] = response.json()["data"]
    return figures


def test_deleting_expired_events_leaves_every_total_unchanged(account, engine):
    now = datetime.now(UTC)
    _track_history(account, now)
    for period in ("monthly", "weekly"):
        body = {"name": period, "amount_usd": "50", "period": period}
        assert account.client.post("/api/budgets", json=body, headers=account.key_headers)
    before = _figures(account, now)
    rollups = _rollup_rows(engine)
    assert before["summary 120 days"]["calls"] == 2 * len(DAYS_AGO) + 1

    deleted = delete_expired_events(engine, retention_days=30, batch_rows=3)

    assert deleted == 2 * 4  # 90, 61, 45 and 31 days ago, two models each
    assert _raw_events(engine) == 2 * 3 + 1
    listed = account.get("/api/events", limit=100).json()["data"]["items"]
    assert min(datetime.fromisoformat(e["timestamp"]) for e in listed) > now - timedelta(days=30)
    assert _rollup_rows(engine) == rollups
    assert _figures(account, now) == before

    # Past a window that has every event behind it, the figures still stand on the rollups.
    later = now + timedelta(days=1, minutes=1)
    assert delete_expired_events(engine, retention_days=1, now=later) == 2 * 3 + 1
    assert _raw_events(engine) == 0
    assert _figures(account, now) == before


def test_deleting_stops_between_batches_when_asked(account, engine):
    now = datetime.now(UTC)
    _track_history(account, now)
    pauses = []

    def pause() -> bool:
        pauses.append(1)
        return len(pauses) == 2

    assert delete_expired_events(engine, retention_days=30, batch_rows=3, pause=pause) == 6
    assert delete_expired_events(engine, retention_days=30, batch_rows=3) == 2


@pytest.fixture
def retention_client(settings: Any, engine: Engine) -> Any:
    settings = settings.model_copy(update={"retention_days": 30, "webhook_worker_enabled": False})
    with TestClient(create_app(settings, engine)) as client:
        yield client


def test_tracking_refuses_an_event_older_than_the_window(retention_client):
    account = Account(retention_client, "ada@example.com")
    now = datetime.now(UTC)
    old = {
        "model": "gpt-4o",
        "input_tokens": 10,
        "timestamp": (now - timedelta(days=31)).isoformat(),
    }
    recent = {
        "model": "gpt-4o",
        "input_tokens": 10,
        "timestamp": (now - timedelta(days=29)).isoformat(),
    }

    alone = account.track(old)
    assert alone.status_code == 422
    assert alone.json()["error"].startswith("timestamp: must not be older than the retention")
    in_batch = account.track(recent, old)
    assert in_batch.status_code == 422
    assert in_batch.json()["error"].startswith("events[1].timestamp:")
    assert account.get("/api/events").json()["data"]["items"] == []  # the batch stored nothing
    assert account.track(recent).status_code == 200


def test_tracking_accepts_any_past_event_without_retention(account):
    stamp = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    assert (
        account.track({"model": "gpt-4o", "input_tokens": 10, "timestamp": stamp}).status_code
        == 200
    )


def test_the_background_worker_deletes_expired_events(account, engine, settings):
    _track_history(account, datetime.now(UTC))
    workers = BackgroundWorkers(
        engine,
        settings.model_copy(update={"retention_days": 30, "webhook_worker_enabled": False}),
    )
    workers.start()
    try:
        deadline = time.monotonic() + 10
        while _raw_events(engine) != 2 * 3 + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.stop()
    assert _raw_events(engine) == 2 * 3 + 1
    assert workers.retention is not None and not workers.retention.running


def test_no_retention_worker_without_the_setting(engine, settings):
    assert BackgroundWorkers(engine, settings).retention is None
