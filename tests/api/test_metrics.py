"""GET /metrics: Prometheus text behind LLMLAB_METRICS_TOKEN (404 while unset), with ingest,
refusal, rate-limit and webhook counters that move with what the app does, and values added
up across worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from llmlab_app.api import create_app
from llmlab_app.db.models import utcnow
from llmlab_app.services.webhooks import deliver_due_webhooks
from tests.api.test_alerts import Receiver
from tests.otel.payloads import PROTOBUF, export_request, new_span

TOKEN = "metrics-" + "t" * 32
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings: Any) -> Any:
    """Metrics on, a rate limit low enough to reach, webhooks to a receiver on this machine."""
    return settings.model_copy(
        update={
            "metrics_token": TOKEN,
            "rate_limit": "5/minute",
            "webhook_worker_enabled": False,
            "webhook_allow_private": True,
        }
    )


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_without_a_token(settings, engine):
    settings = settings.model_copy(update={"metrics_token": None})
    with TestClient(create_app(settings, engine)) as client:
        response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_metrics_need_the_token(client):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "metrics need Authorization: Bearer <LLMLAB_METRICS_TOKEN>"
    assert client.get("/metrics", headers=SCRAPE).status_code == 200


def test_tracking_counts_ingested_and_refused_events_and_times_requests(client, account):
    before = samples(client)
    assert (
        account.track({"model": "gpt-4o", "input_tokens": 10, "event_id": "a"}).status_code == 200
    )
    pair = [{"model": "gpt-4o", "input_tokens": 1, "event_id": e} for e in ("a", "b", "c")]
    assert account.track(*pair).status_code == 200  # "a" is a repeat: not ingested again
    assert account.track({"model": "gpt-4o", "input_tokens": -1}).status_code == 422
    anonymous = client.post("/api/events/track", json={"model": "gpt-4o"})
    assert anonymous.status_code == 401
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("llmlab_events_ingested_total", source="api") == 3
    assert delta("llmlab_events_rejected_total", source="api", reason="invalid") == 1
    assert delta("llmlab_events_rejected_total", source="api", reason="unauthenticated") == 1
    assert delta("llmlab_ingest_latency_seconds_count", source="api") == 4
    assert delta("llmlab_ingest_latency_seconds_sum", source="api") > 0
    assert ("llmlab_ingest_queue_depth", ()) in after
    assert ("llmlab_dashboard_sessions", ()) in after


def test_otlp_exports_count_ingested_events_by_source(client, account):
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 1,
    }
    body = export_request([new_span(chat), new_span(chat)]).SerializeToString()
    before = samples(client)
    for headers in (account.key_headers, account.key_headers, {}):  # a repeat; no key
        client.post("/api/otel/v1/traces", content=body, headers=PROTOBUF | headers)
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("llmlab_events_ingested_total", source="otlp") == 2
    assert delta("llmlab_events_rejected_total", source="otlp", reason="unauthenticated") == 1
    assert delta("llmlab_ingest_latency_seconds_count", source="otlp") == 3
    assert delta("llmlab_events_ingested_total", source="api") == 0


def test_other_routes_are_not_timed_as_ingest(client, account):
    before = samples(client)
    assert account.get("/api/events").status_code == 200
    after = samples(client)
    assert value(after, "llmlab_ingest_latency_seconds_count", source="api") == value(
        before, "llmlab_ingest_latency_seconds_count", source="api"
    )


def test_rate_limit_refusals_are_counted(client, account):
    before = samples(client)
    codes = [account.get("/api/projects").status_code for _ in range(6)]
    assert codes[-1] == 429
    after = samples(client)
    refused = value(after, "llmlab_rate_limit_refusals_total", scope="api") - value(
        before, "llmlab_rate_limit_refusals_total", scope="api"
    )
    assert refused == codes.count(429) >= 1


def test_webhook_deliveries_are_counted_by_outcome(app, client, account):
    receiver = Receiver()
    receiver.failures = [503]
    try:
        budget = {"name": "m", "amount_usd": "1", "period": "monthly", "alert_thresholds": [50]}
        budget["webhook_url"] = receiver.url
        assert account.client.post("/api/budgets", json=budget, headers=account.token_headers)
        assert account.track({"model": "gpt-4o", "input_tokens": 240_000}).status_code == 200
        before = samples(client)
        settings = app.state.settings.model_copy(update={"webhook_backoff_seconds": 0.0})
        deliver_due_webhooks(app.state.engine, settings)
        deliver_due_webhooks(app.state.engine, settings, now=utcnow() + timedelta(seconds=1))
        after = samples(client)
    finally:
        receiver.close()
    for outcome, expected in (("retrying", 1), ("delivered", 1), ("failed", 0)):
        name = "llmlab_webhook_deliveries_total"
        got = value(after, name, outcome=outcome) - value(before, name, outcome=outcome)
        assert got == expected, outcome


WORKER = """
import sys
from llmlab_app import metrics
metrics.EVENTS_INGESTED.labels(source="api").inc(int(sys.argv[1]))
metrics.INGEST_QUEUE_DEPTH.set(int(sys.argv[1]))
if sys.argv[2] == "stopped":
    metrics.forget_this_process()
"""
SCRAPER = """
from llmlab_app.metrics import render_metrics
print(render_metrics()[0].decode())
"""


@pytest.fixture
def multiproc_dir(tmp_path: Any) -> Iterator[dict[str, str]]:
    yield os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}


def test_values_are_added_up_across_worker_processes(multiproc_dir):
    for count, state in ((3, "running"), (4, "running"), (5, "stopped")):
        subprocess.run(
            [sys.executable, "-c", WORKER, str(count), state], env=multiproc_dir, check=True
        )
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPER],
        env=multiproc_dir,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert value(found, "llmlab_events_ingested_total", source="api") == 12
    # A stopped worker's queue is gone; the two others' add up.
    assert value(found, "llmlab_ingest_queue_depth") == 7
