"""A batch is read, priced and answered exactly as its events are one by one: the batch path's
shortcuts (`validate_batch`, `BatchPricer`, `track_answer_json`) change no result."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from llmlab_app.api.schemas import EventBatch
from llmlab_app.db.types import money_text, quantize_money
from llmlab_app.services.ingest import EventIn, validate_batch
from llmlab_app.services.ingest.pricing import BatchPricer, price_event
from llmlab_core import PriceOverride

# Models, cache and reasoning tokens, a long-context tier, 1-hour cache writes, service tiers,
# an unknown model, a legacy total, a client's cost, and o3's price cut on 2025-06-10 (the
# same model on both sides of it, in UTC and in another zone).
MIXED: list[dict[str, Any]] = [
    {"model": "gpt-4o", "input_tokens": 12_000, "cache_read_tokens": 4_000, "output_tokens": 900},
    {"model": "gpt-4o", "input_tokens": 5, "output_tokens": 7},
    {"model": "openai/gpt-4o-mini", "input_tokens": 3_000, "output_tokens": 20},
    {
        "model": "o3",
        "input_tokens": 1_000,
        "output_tokens": 5_000,
        "reasoning_tokens": 4_000,
        "timestamp": "2025-06-09T23:59:59Z",
    },
    {
        "model": "o3",
        "input_tokens": 1_000,
        "output_tokens": 5_000,
        "reasoning_tokens": 4_000,
        "timestamp": "2025-06-10T00:00:00Z",
    },
    {
        "model": "o3",
        "input_tokens": 1_000,
        "output_tokens": 5_000,
        "timestamp": "2025-06-10T00:30:00+02:00",
    },
    {
        "model": "claude-sonnet-4",
        "input_tokens": 9_000,
        "cache_read_tokens": 3_000,
        "cache_write_tokens": 2_000,
        "cache_write_1h_tokens": 500,
        "output_tokens": 700,
    },
    {"model": "gemini-2.5-pro", "input_tokens": 300_000, "output_tokens": 1_000},
    {"model": "gemini-2.5-pro", "input_tokens": 200_000, "output_tokens": 1_000},
    {"model": "gpt-4o", "input_tokens": 2_000, "output_tokens": 100, "service_tier": "batch"},
    {"model": "gpt-4o", "input_tokens": 2_000, "output_tokens": 100, "service_tier": "flex"},
    {"model": "no-such-model-xyz", "input_tokens": 10, "output_tokens": 10},
    {"model": "gpt-4o", "tokens_used": 500},
    {"model": "gpt-4o"},
    {"model": "gpt-4o", "input_tokens": 10, "cost_usd": "0.42"},
    {"model": "gpt-4o", "provider": "azure", "input_tokens": 1_000, "output_tokens": 10},
]


def _events() -> list[EventIn]:
    return [EventIn(**event) for event in MIXED]


def _at(event: EventIn) -> datetime:
    return event.timestamp or datetime(2026, 11, 1, tzinfo=UTC)


def _alone(event: EventIn, overrides: Any = ()) -> Any:
    return price_event(
        event.model,
        event.usage(),
        provider=event.provider,
        at=_at(event),
        overrides=overrides,
        service_tier=event.service_tier,
        tokens_used=event.tokens_used,
        client_cost=event.cost_usd,
    )


def test_a_mixed_batch_is_priced_as_each_event_alone():
    pricer = BatchPricer(overrides=[])
    events = _events()
    for event in events + events:  # the second pass hits what the first resolved
        assert pricer.price(event, _at(event)) == _alone(event), event.model
    costs = {e.model: _alone(e).cost_usd for e in events}
    assert costs["no-such-model-xyz"] is None  # unpriced, never $0
    o3 = [_alone(e).cost_usd for e in events if e.model == "o3"]
    assert o3[0] != o3[1]  # the price cut is crossed inside the batch


def test_with_price_overrides_the_batch_prices_as_each_event_alone():
    overrides = [
        PriceOverride(
            id="cheap",
            provider="openai",
            model="gpt-4o",
            input=Decimal("1"),
            output=Decimal("2"),
            valid_from=datetime(2026, 10, 31, 12, tzinfo=UTC),
        )
    ]
    pricer = BatchPricer(overrides=overrides)
    before = datetime(2026, 10, 31, 11, tzinfo=UTC)  # the override is not in force yet
    events = [*_events(), EventIn(model="gpt-4o", input_tokens=1_000, timestamp=before)]
    for event in events:
        assert pricer.price(event, _at(event)) == _alone(event, overrides), event.model


def test_a_mixed_batch_through_the_api_costs_what_each_event_costs_alone(account):
    events = [event | {"event_id": f"m{i}"} for i, event in enumerate(MIXED)]
    answer = account.track(*events)
    assert answer.status_code == 200, answer.text
    costs = [e["cost_usd"] for e in answer.json()["data"]["events"]]
    one_by_one = [
        account.track(event | {"event_id": f"alone{i}"}).json()["data"]["events"][0]["cost_usd"]
        for i, event in enumerate(MIXED)
    ]
    assert costs == one_by_one
    expected = [
        None if (cost := _alone(e).cost_usd) is None else money_text(quantize_money(cost))
        for e in _events()
    ]
    assert costs == expected


def _body(*events: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"events": list(events), **extra}).encode()


GOOD = {"model": "gpt-4o", "input_tokens": 10, "output_tokens": 2}
SOON = (datetime.now(UTC) + timedelta(minutes=3)).isoformat()
LATE = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
ACCEPTED = [
    _body(GOOD),
    _body(*MIXED),
    _body(GOOD | {"model": "  gpt-4o \n", "project": " p ", "end_user": "", "tags": ["a", "b"]}),
    _body(GOOD | {"timestamp": "2026-01-01T00:00:00"}),  # naive: UTC
    _body(GOOD | {"timestamp": "2026-01-01T05:00:00+05:00"}),
    _body(GOOD | {"timestamp": SOON}),
    _body(GOOD | {"timestamp": 1_767_225_600}),
    _body(GOOD | {"metadata": {"x": "a" * 16_000, "n": [1, 2.5, None, True]}}),
    _body(GOOD | {"cost_usd": 0.1000000000000000055511151231257827, "reported_cost_usd": "2"}),
    _body(GOOD | {"input_tokens": 5.0, "latency_ms": "12", "unknown_field": 1}),
    _body(GOOD | {"model": "模型 'quoted'", "event_id": "e" * 128}),
    _body(*[GOOD] * 1000),
    b'  \n{"events" : [' + json.dumps(GOOD).encode() + b"]}",
]
REFUSED = [
    *(_body(GOOD | {name: "a\x00b"}) for name in ("event_id", "provider", "model", "project")),
    _body(GOOD | {"end_user": "x\x1fy"}),
    _body(GOOD | {"tags": ["ok", "t\x7f"]}),
    _body(GOOD | {"model": " m\x01 "}),
    _body(GOOD | {"tags": [" ok \t"]}),
    _body(GOOD | {"model": "   "}),
    _body(GOOD | {"metadata": {"x": "a" * 17_000}}),
    _body(GOOD | {"timestamp": LATE}),
    _body(GOOD | {"timestamp": "2014-12-31T23:59:59Z"}),
    _body(GOOD | {"input_tokens": -1}),
    _body(GOOD | {"cost_usd": "NaN"}),
    _body(GOOD | {"service_tier": "cheap"}),
    _body(GOOD | {"source": "otlp"}),
    _body(),
    _body(*[GOOD] * 1001),
    json.dumps(GOOD).encode(),
    b"[]",
    b'{"events": [' + json.dumps(GOOD).encode() + b"]",
]


def _as_event_batch(body: bytes) -> list[EventIn] | None:
    try:
        return EventBatch.model_validate(json.loads(body)).events
    except (ValidationError, ValueError):
        return None


@pytest.mark.parametrize("body", ACCEPTED)
def test_a_batch_read_from_its_bytes_equals_event_batch(body):
    expected = _as_event_batch(body)
    assert expected is not None
    assert validate_batch(body) == expected


@pytest.mark.parametrize("body", REFUSED)
def test_what_event_batch_refuses_is_left_to_it(body):
    assert _as_event_batch(body) is None
    assert validate_batch(body) is None


def test_a_body_with_more_than_events_is_left_to_the_declared_union():
    # `EventBatch` ignores the extra key; the body could also have been meant as one event.
    body = _body(GOOD, model="gpt-4o")
    assert validate_batch(body) is None
    assert _as_event_batch(body) is not None


def test_a_refused_batch_names_the_event_and_field_as_before(account):
    events = [GOOD, GOOD | {"project": "a\x00b"}]
    response = account.track(*events)
    assert response.status_code == 422
    assert response.json()["error"] == "events[1].project: must not contain control characters"
    late = account.track(GOOD, GOOD, GOOD | {"timestamp": LATE})
    assert late.json()["error"] == (
        "events[2].timestamp: must not be more than 5 minutes in the future"
    )


def test_the_app_collects_young_garbage_less_often_once_started(client: Any) -> None:
    """The batch path's collector setting holds once the app has started (its lifespan ran)."""
    import gc

    from llmlab_app.api.main import GC_YOUNG_THRESHOLD

    assert client.get("/health").status_code == 200
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD > 700
