"""`POST /api/otel/v1/traces` through the real ASGI app and database: both OTLP encodings,
gzip, idempotent re-exports, partial success, and refusals answered as OTLP/HTTP says (a
`google.rpc.Status` body, `Retry-After` on 429)."""

from __future__ import annotations

import gzip
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status

from llmlab_app.api import create_app
from llmlab_core import Usage, price_usage
from tests.otel.payloads import (
    JSON,
    PROTOBUF,
    as_otlp_json,
    export_request,
    new_span,
    read_response,
)

TRACES = "/api/otel/v1/traces"
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.cache_read.input_tokens": 1024,
}


def chat(response_id: str, **extra: Any) -> dict[str, Any]:
    return CHAT | {"gen_ai.response.id": response_id} | extra


def post(account: Any, body: bytes, headers: dict[str, str]) -> Any:
    return account.client.post(TRACES, content=body, headers=account.key_headers | headers)


def export(account: Any, spans: list[Any], resource: dict[str, Any] | None = None) -> Any:
    body = export_request(spans, resource).SerializeToString()
    return post(account, body, PROTOBUF)


def events(account: Any) -> list[dict[str, Any]]:
    return account.get("/api/events", limit=1000).json()["data"]["items"]


def test_a_protobuf_export_stores_each_model_call_at_the_engines_price(account):
    answer = export(account, [new_span(chat("chatcmpl-a"))], {"service.name": "checkout"})
    assert answer.status_code == 200, answer.content
    assert answer.headers["content-type"] == "application/x-protobuf"
    assert not read_response(answer.content, "application/x-protobuf").HasField("partial_success")
    [event] = events(account)
    assert event["event_id"] == "openai:chatcmpl-a"
    assert (event["provider"], event["model"], event["project"]) == (
        "openai",
        "gpt-4o-2024-08-06",
        "checkout",
    )
    assert (event["input_tokens"], event["cache_read_tokens"], event["output_tokens"]) == (
        1200,
        1024,
        300,
    )
    assert event["latency_ms"] == 250
    expected = price_usage(
        "gpt-4o-2024-08-06",
        Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=300),
        provider="openai",
        at=datetime.fromisoformat(event["timestamp"]),
    ).cost_usd
    assert (
        Decimal(event["cost_usd"]) == expected == Decimal("0.00472")
    )  # 176 x 2.50, 1,024 x 1.25, 300 x 10 per M
    assert event["source"] == "otlp"


def test_otlp_json_with_hex_ids_is_read_and_answered_in_json(account):
    trace_id, span_id = (
        bytes.fromhex("5b8efff798038103d269b633813fc60c"),
        bytes.fromhex("eee19b7ec3c1b174"),
    )
    no_response_id = {k: v for k, v in CHAT.items()}
    body = as_otlp_json(
        export_request([new_span(no_response_id, trace_id=trace_id, span_id=span_id)])
    )
    assert b"5b8efff798038103d269b633813fc60c" in body
    answer = post(account, body, JSON)
    assert answer.status_code == 200, answer.content
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {}
    [event] = events(account)
    assert event["event_id"] == "otel:5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"
    assert event["metadata"]["otel.trace_id"] == "5b8efff798038103d269b633813fc60c"


def test_a_gzip_body_is_read(account):
    body = gzip.compress(export_request([new_span(chat("chatcmpl-gz"))]).SerializeToString())
    answer = post(account, body, PROTOBUF | {"Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.content
    assert [e["event_id"] for e in events(account)] == ["openai:chatcmpl-gz"]


def test_re_exporting_the_same_spans_stores_nothing_new(account):
    spans = [new_span(chat("chatcmpl-1")), new_span({k: v for k, v in CHAT.items()})]
    body = export_request(spans).SerializeToString()
    assert post(account, body, PROTOBUF).status_code == 200
    first = events(account)
    assert post(account, body, PROTOBUF).status_code == 200  # an exporter's retry
    assert events(account) == first
    assert len(first) == 2


def test_an_agent_span_around_two_model_calls_yields_exactly_two_events(account):
    trace_id, agent_id = bytes(range(16)), bytes(range(8))
    agent = new_span(
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "planner",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 2400,
            "gen_ai.usage.output_tokens": 600,
        },
        trace_id=trace_id,
        span_id=agent_id,
    )
    children = [
        new_span(chat(f"chatcmpl-child-{n}"), trace_id=trace_id, parent=agent_id) for n in (1, 2)
    ]
    tool = new_span({"gen_ai.operation.name": "execute_tool"}, trace_id=trace_id, parent=agent_id)
    answer = export(account, [*children, tool, agent])
    assert answer.status_code == 200
    assert not read_response(answer.content, "application/x-protobuf").HasField("partial_success")
    assert sorted(e["event_id"] for e in events(account)) == [
        "openai:chatcmpl-child-1",
        "openai:chatcmpl-child-2",
    ]


def test_bad_spans_are_counted_in_partial_success_and_the_good_ones_stored(account):
    spans = [
        new_span(chat("chatcmpl-good-1")),
        new_span({"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 3}),  # no model
        new_span(chat("chatcmpl-future"), ended_ns=4_000_000_000_000_000_000),  # year 2096
        new_span(chat("chatcmpl-good-2")),
    ]
    answer = export(account, spans)
    assert answer.status_code == 200
    partial = read_response(answer.content, "application/x-protobuf").partial_success
    assert partial.rejected_spans == 2
    assert "without gen_ai.request.model or gen_ai.response.model" in partial.error_message
    assert "timestamp: Value error, must not be more than 5 minutes in the future" in (
        partial.error_message
    )
    assert sorted(e["event_id"] for e in events(account)) == [
        "openai:chatcmpl-good-1",
        "openai:chatcmpl-good-2",
    ]


def test_spans_older_than_the_retention_window_are_refused_like_tracked_events(settings, engine):
    settings = settings.model_copy(update={"retention_days": 30, "webhook_worker_enabled": False})
    with TestClient(create_app(settings, engine)) as client:
        from tests.conftest import Account

        account = Account(client, "kept@example.com")
        old = new_span(chat("chatcmpl-old"), ended_ns=time.time_ns() - 40 * 86_400 * 10**9)
        answer = export(account, [old, new_span(chat("chatcmpl-new"))])
        assert answer.status_code == 200
        partial = read_response(answer.content, "application/x-protobuf").partial_success
        assert partial.rejected_spans == 1
        assert "older than the retention window of 30 days" in partial.error_message
        assert [e["event_id"] for e in events(account)] == ["openai:chatcmpl-new"]


def test_partial_success_is_in_json_for_a_json_request(account):
    body = as_otlp_json(export_request([new_span({"gen_ai.operation.name": "chat"})]))
    answer = post(account, body, JSON)
    assert answer.status_code == 200
    assert answer.json()["partialSuccess"]["rejectedSpans"] in ("1", 1)


def status_of(answer: Any) -> Status:
    status = Status()
    if answer.headers["content-type"].startswith("application/json"):
        from google.protobuf import json_format

        json_format.Parse(answer.content, status)
    else:
        status.ParseFromString(answer.content)
    return status


@pytest.mark.parametrize(
    ("body", "headers", "code", "message"),
    [
        (b"\xff\xff\xff", PROTOBUF, 400, "not an ExportTraceServiceRequest"),
        (b"{not json", JSON, 400, "not JSON"),
        (b'{"resourceSpans": 3}', JSON, 400, "not an OTLP JSON trace export"),
        (
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"01"}]}]}]}',
            JSON,
            400,
            "traceId 'zz' is not hex",
        ),
        (b"not gzip", PROTOBUF | {"Content-Encoding": "gzip"}, 400, "not valid gzip"),
        (b"{}", {"Content-Type": "text/plain"}, 415, "unsupported Content-Type 'text/plain'"),
        (b"{}", JSON | {"Content-Encoding": "br"}, 415, "unsupported Content-Encoding 'br'"),
    ],
)
def test_undecodable_payloads_are_refused_with_a_status(account, body, headers, code, message):
    answer = post(account, body, headers)
    assert answer.status_code == code
    assert message in status_of(answer).message
    assert events(account) == []


def test_without_a_key_the_answer_is_401_in_otlp_form(client):
    body = export_request([new_span(chat("x"))]).SerializeToString()
    answer = client.post(TRACES, content=body, headers=PROTOBUF)
    assert answer.status_code == 401
    assert "Authorization: Bearer llmlab_" in status_of(answer).message
    bad = client.post(
        TRACES, content=body, headers=PROTOBUF | {"Authorization": "Bearer llmlab_nope"}
    )
    assert bad.status_code == 401


def test_bodies_over_the_limit_are_refused_before_and_after_decompression(settings, engine):
    settings = settings.model_copy(update={"max_body_bytes": 10_000})
    with TestClient(create_app(settings, engine)) as client:
        from tests.conftest import Account

        account = Account(client, "big@example.com")
        spans = [new_span(chat(f"chatcmpl-{n}", padding="x" * 500)) for n in range(30)]
        body = export_request(spans).SerializeToString()
        assert len(body) > 10_000
        assert post(account, body, PROTOBUF).status_code == 413
        # A gzip bomb: small on the wire, past the limit once inflated.
        bomb = gzip.compress(b"\x00" * 5_000_000)
        assert len(bomb) < 10_000
        answer = post(account, bomb, PROTOBUF | {"Content-Encoding": "gzip"})
        assert answer.status_code == 413
        assert "decompressed body larger than 10000 bytes" in status_of(answer).message


def test_past_the_rate_limit_the_answer_is_429_with_retry_after(settings, engine):
    settings = settings.model_copy(update={"rate_limit": "2/minute"})
    with TestClient(create_app(settings, engine)) as client:
        from tests.conftest import Account

        account = Account(client, "busy@example.com")
        body = export_request([new_span(chat("chatcmpl-r"))]).SerializeToString()
        assert [post(account, body, PROTOBUF).status_code for _ in range(2)] == [200, 200]
        refused = post(account, body, PROTOBUF)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "rate limit" in status_of(refused).message


@pytest.mark.parametrize("signal", ["metrics", "logs"])
def test_metrics_and_logs_are_accepted_and_ignored(client, signal):
    answer = client.post(f"/api/otel/v1/{signal}", content=b"\x0a\x00", headers=PROTOBUF)
    assert (answer.status_code, answer.content) == (200, b"")
    assert client.post(f"/api/otel/v1/{signal}", content=b"{}", headers=JSON).json() == {}


def test_budget_alerts_fire_for_otlp_spans_as_for_tracked_events(account):
    budget = account.client.post(
        "/api/budgets",
        json={"name": "monthly", "amount_usd": "0.01", "period": "monthly"},
        headers=account.key_headers,
    ).json()["data"]
    big = chat("chatcmpl-big") | {
        "gen_ai.usage.input_tokens": 10_000,
        "gen_ai.usage.cache_read.input_tokens": 0,
    }
    assert export(account, [new_span(big)]).status_code == 200  # $0.025 + $0.003 output
    alerts = account.get(f"/api/budgets/{budget['id']}/alerts").json()["data"]
    assert sorted(a["threshold"] for a in alerts) == [50, 80, 100]


def test_when_the_database_is_down_the_answer_is_503_with_retry_after(settings, tmp_path):
    from llmlab_app.db.engine import make_engine

    unreachable = make_engine(f"sqlite:///{tmp_path / 'missing' / 'llmlab.db'}")
    client = TestClient(create_app(settings, unreachable))  # no start-up: nothing to migrate
    body = export_request([new_span(chat("chatcmpl-down"))]).SerializeToString()
    answer = client.post(
        TRACES, content=body, headers=PROTOBUF | {"Authorization": "Bearer llmlab_" + "k" * 43}
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "database unavailable" in status_of(answer).message


def test_a_cost_the_span_reports_is_kept_beside_llmlabs_price(account):
    span = new_span(chat("chatcmpl-cost", **{"gen_ai.usage.cost": 0.0123}))
    assert export(account, [span]).status_code == 200
    [event] = events(account)
    assert (event["reported_cost_usd"], event["cost_usd"]) == ("0.0123", "0.00472")
    assert event["cost_source"] == "engine"


def test_counts_ingest_refuses_are_reported_like_the_mappings_refusals(account):
    contradictory = chat(
        "chatcmpl-1h",
        **{"anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 500},
    )
    answer = export(account, [new_span(contradictory), new_span(chat("chatcmpl-fine"))])
    partial = read_response(answer.content, "application/x-protobuf").partial_success
    assert partial.rejected_spans == 1
    assert "cache_write_1h_tokens (500) exceeds cache_write_tokens (0)" in partial.error_message
    assert [e["event_id"] for e in events(account)] == ["openai:chatcmpl-fine"]
