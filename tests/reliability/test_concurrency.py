"""8 concurrent writers x 10,000 events, with event ids deliberately repeated across writers,
against a real server: PostgreSQL behind 2 workers, SQLite behind 1. Nothing is lost, nothing
is counted twice, the rollup equals the raw events to the last 1e-10 USD, and each budget alert
fires once."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from llmlab_app.db.types import Money
from llmlab_core import Usage, price_usage
from tests.live_server import start_api_server

WRITERS = 8
EVENTS_PER_WRITER = 10_000
BATCH = 500
SHARED_EVERY = 10  # every 10th event id is the same in all writers
EVENT = {
    "model": "gpt-4o-mini",
    "input_tokens": 1_234,
    "cache_read_tokens": 200,
    "output_tokens": 87,
}


def _writer_batches(writer: int) -> list[list[dict]]:
    events = []
    for i in range(EVENTS_PER_WRITER):
        event_id = f"shared-{i}" if i % SHARED_EVERY == 0 else f"w{writer}-{i}"
        events.append(EVENT | {"event_id": event_id})
    return [events[i : i + BATCH] for i in range(0, len(events), BATCH)]


@pytest.mark.slow
def test_concurrent_writers_store_every_event_exactly_once(engine, tmp_path):
    workers = 2 if engine.dialect.name == "postgresql" else 1
    server = start_api_server(
        tmp_path,
        {
            "LLMLAB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "LLMLAB_RATE_LIMIT": "100000/minute",
        },
        workers=workers,
    )
    try:
        base = server.base_url
        signup = httpx.post(
            f"{base}/api/auth/signup", json={"email": "load@example.com", "password": "long enough"}
        ).json()["data"]
        headers = {"X-API-Key": signup["api_key"]["key"]}
        one_cost = price_usage(
            EVENT["model"], Usage(**{k: v for k, v in EVENT.items() if k != "model"})
        ).cost_usd
        unique_events = WRITERS * (EVENTS_PER_WRITER - EVENTS_PER_WRITER // SHARED_EVERY) + (
            EVENTS_PER_WRITER // SHARED_EVERY
        )
        budget_amount = one_cost * unique_events  # thresholds 50/80/100 % all crossed under load
        httpx.post(f"{base}/api/budgets", json={"amount_usd": str(budget_amount)}, headers=headers)

        failures: list[str] = []
        barrier = threading.Barrier(WRITERS)

        def write(writer: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                barrier.wait()
                for batch in _writer_batches(writer):
                    response = client.post("/api/events/track", json={"events": batch})
                    if response.status_code != 200:
                        failures.append(f"{response.status_code}: {response.text[:200]}")

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []

        with engine.connect() as connection:
            stored = connection.execute(text("SELECT COUNT(*) FROM cost_events")).scalar_one()
            raw_sum = connection.execute(text("SELECT SUM(cost_usd) FROM cost_events")).scalar_one()
            rollup_calls, rollup_sum = connection.execute(
                text("SELECT SUM(calls), SUM(cost_usd) FROM daily_spend")
            ).one()
            alerts = connection.execute(
                text("SELECT kind, threshold, COUNT(*) FROM budget_alerts GROUP BY kind, threshold")
            ).all()
        money = Money()
        assert stored == unique_events == rollup_calls
        raw_total = money.process_result_value(raw_sum, engine.dialect)
        assert raw_total == money.process_result_value(rollup_sum, engine.dialect)
        assert raw_total == one_cost * unique_events
        threshold_alerts = {
            (kind, threshold): count for kind, threshold, count in alerts if kind == "threshold"
        }
        assert threshold_alerts == {
            ("threshold", 50): 1,
            ("threshold", 80): 1,
            ("threshold", 100): 1,
        }
        summary = httpx.get(f"{base}/api/costs/summary", headers=headers).json()["data"]
        assert Decimal(summary["total_cost_usd"]) == raw_total and summary["calls"] == unique_events
    finally:
        server.stop()
