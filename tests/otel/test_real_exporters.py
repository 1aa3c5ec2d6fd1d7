"""Software nobody here wrote, end to end: the OpenTelemetry Python SDK and its OTLP/HTTP
exporter, the official OpenAI instrumentation (`opentelemetry-instrumentation-openai-v2`),
OpenLLMetry's Anthropic instrumentation and the anthropic client's own spans, calling the
local fake provider; each call is then found in `/api/events` at the engine's price."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import openai
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.gateway.conftest import expected_cost, tokens, usage
from tests.otel.payloads import JSON, as_otlp_json
from tests.sdk.fake_provider import (
    ANTHROPIC_MODEL,
    ANTHROPIC_USAGE,
    OPENAI_CHAT_MODEL,
    FakeProvider,
)

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def instrumented(tracer_provider: TracerProvider) -> Iterator[TracerProvider]:
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    AnthropicInstrumentor().instrument(tracer_provider=tracer_provider)
    yield tracer_provider
    OpenAIInstrumentor().uninstrument()
    AnthropicInstrumentor().uninstrument()


def openai_client(provider: FakeProvider) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{provider.url}/v1", api_key="sk-test", max_retries=0)


def anthropic_client(
    provider: FakeProvider, *, own_spans_to: TracerProvider | None = None
) -> anthropic.Anthropic:
    """The client, with its own spans (anthropic 2.x makes them) sent to `own_spans_to`."""
    telemetry: Any = {"traces": {"enabled": own_spans_to is not None}}
    if own_spans_to is not None:
        telemetry["tracer_provider"] = own_spans_to
    return anthropic.Anthropic(
        base_url=provider.url, api_key="sk-ant-test", max_retries=0, open_telemetry=telemetry
    )


def priced_at_the_engines_price(event: dict[str, Any]) -> Decimal:
    cost = Decimal(event["cost_usd"])
    assert cost == expected_cost(event), event
    assert event["source"] == "otlp"
    return cost


def test_openai_v2_instrumented_calls_are_priced(instrumented, fake_provider, live_account):
    client = openai_client(fake_provider)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    client.embeddings.create(model="text-embedding-3-small", input="hi")
    instrumented.force_flush()
    found = live_account.events(3)
    assert len(found) == 3
    chats = [e for e in found if e["event_id"].startswith("openai:chatcmpl-")]
    assert {e["event_id"] for e in chats} >= {f"openai:{chunks[0].id}"}
    for event in chats:
        assert (event["provider"], event["model"], event["project"]) == (
            "openai",
            OPENAI_CHAT_MODEL,
            "checkout",
        )
        # What the instrumentation reports: it leaves the cached and reasoning parts out.
        assert tokens(event) == usage({"input_tokens": 1200, "output_tokens": 300})
        assert priced_at_the_engines_price(event) == Decimal("0.006")  # 1,200 x 2.50 + 300 x 10
    [embedding] = [e for e in found if e not in chats]
    assert (embedding["model"], embedding["input_tokens"]) == ("text-embedding-3-small", 8)
    assert embedding["event_id"].startswith("otel:")
    assert priced_at_the_engines_price(embedding) == Decimal("0.00000016")


def test_openllmetry_anthropic_calls_are_priced(instrumented, fake_provider, live_account):
    client = anthropic_client(fake_provider)
    message = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=MESSAGES)
    with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=10, messages=MESSAGES) as stream:
        streamed = stream.get_final_message()
    instrumented.force_flush()
    by_id = {e["event_id"]: e for e in live_account.events(2)}
    assert set(by_id) == {f"anthropic:{message.id}", f"anthropic:{streamed.id}"}
    event = by_id[f"anthropic:{message.id}"]
    assert event["model"] == ANTHROPIC_MODEL
    # Input 7,100 holds the 5,000 cache reads and 2,000 writes: added once, not twice.
    assert tokens(event) == usage(
        {
            "input_tokens": 7100,
            "output_tokens": 250,
            "cache_read_tokens": 5000,
            "cache_write_tokens": 2000,
        }
    )
    # 100 x 3.00 + 5,000 x 0.30 + 2,000 x 3.75 + 250 x 15.00 per million tokens.
    assert priced_at_the_engines_price(event) == Decimal("0.01305")
    assert priced_at_the_engines_price(by_id[f"anthropic:{streamed.id}"]) > 0


def test_a_call_seen_by_two_instrumentations_is_stored_once(
    instrumented, fake_provider, live_account
):
    """The anthropic client's own span and OpenLLMetry's carry the same response id."""
    client = anthropic_client(fake_provider, own_spans_to=instrumented)
    message = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=10, messages=MESSAGES)
    instrumented.force_flush()
    [event] = live_account.events(1)
    assert event["event_id"] == f"anthropic:{message.id}"
    # The client's span ends inside OpenLLMetry's, so it is exported first and its counts
    # (1-hour cache writes and thinking included) are the ones kept.
    assert tokens(event) == usage(ANTHROPIC_USAGE)
    priced_at_the_engines_price(event)


def test_an_agent_span_around_two_model_calls_yields_two_events(
    instrumented, fake_provider, live_account
):
    client = openai_client(fake_provider)
    tracer = instrumented.get_tracer("my-agent")
    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}
    with tracer.start_as_current_span("invoke_agent planner", attributes=attributes) as agent:
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        # What some frameworks do: the agent span sums its children's usage.
        agent.set_attribute("gen_ai.request.model", "gpt-4o")
        agent.set_attribute("gen_ai.usage.input_tokens", 2400)
        agent.set_attribute("gen_ai.usage.output_tokens", 600)
    instrumented.force_flush()
    found = live_account.events(2)
    assert len(found) == 2
    assert all(e["event_id"].startswith("openai:chatcmpl-") for e in found)


def recorded_spans(fake_provider: FakeProvider, calls: int) -> list[Any]:
    """Spans of real instrumented calls, kept in memory to export by hand."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    try:
        client = openai_client(fake_provider)
        for _ in range(calls):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    finally:
        OpenAIInstrumentor().uninstrument()
    return list(memory.get_finished_spans())


def test_re_exporting_the_same_spans_gzip_stores_nothing_new(fake_provider, live_account):
    spans = recorded_spans(fake_provider, 3)
    exporter = OTLPSpanExporter(
        endpoint=f"{live_account.base_url}/api/otel/v1/traces",
        headers={"Authorization": f"Bearer {live_account.key}"},
        compression=Compression.Gzip,
    )
    assert exporter.export(spans).name == "SUCCESS"
    first = live_account.events(3)
    assert exporter.export(spans).name == "SUCCESS"  # as a retry after a lost answer would
    assert live_account.events(3) == first
    exporter.shutdown()


def test_otlp_json_of_the_sdks_own_encoding_is_stored(fake_provider, live_account):
    """The Python exporter sends protobuf only: the same request, written as OTLP JSON."""
    spans = recorded_spans(fake_provider, 1)
    body = as_otlp_json(encode_spans(spans))
    headers = JSON | {"Authorization": f"Bearer {live_account.key}"}
    answer = httpx.post(
        f"{live_account.base_url}/api/otel/v1/traces", content=body, headers=headers
    )
    assert (answer.status_code, answer.json()) == (200, {})
    [event] = live_account.events(1)
    assert event["event_id"] == f"openai:{spans[0].attributes['gen_ai.response.id']}"
    assert priced_at_the_engines_price(event) == Decimal("0.006")
