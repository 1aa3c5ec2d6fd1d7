"""The mapping from spans to events, pinned on the attribute sets real instrumentations send
(copied from spans that opentelemetry-instrumentation-openai-v2 2.4b0, OpenLLMetry's
opentelemetry-instrumentation-anthropic 0.62.4 and the anthropic client recorded against the
fake provider) and on the semantic conventions' current and deprecated names."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from llmlab_app.otel.genai import ModelCall, Rejected, Skipped, SpanRecord, map_span, map_spans
from llmlab_core.pricing.names import provider_for_semconv

START_NS = 1_764_000_000_000_000_000  # 2025-11-24T16:00:00Z
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"

OPENAI_V2_CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.provider.name": "openai",
    "gen_ai.response.finish_reasons": ("stop",),
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 300,
    "openai.response.service_tier": "default",
}
ANTHROPIC_CLIENT_SPAN = {
    "gen_ai.provider.name": "anthropic",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "claude-sonnet-4-20250514",
    "gen_ai.usage.input_tokens": 7100,
    "gen_ai.response.id": "msg_4",
    "gen_ai.response.model": "claude-sonnet-4-20250514",
    "gen_ai.usage.cache_write.input_tokens": 2000,
    "gen_ai.usage.cache_read.input_tokens": 5000,
    "anthropic.usage.cache_creation.ephemeral_5m_input_tokens": 1500,
    "anthropic.usage.cache_creation.ephemeral_1h_input_tokens": 500,
    "gen_ai.usage.output_tokens": 250,
    "gen_ai.usage.reasoning.output_tokens": 80,
}
OPENLLMETRY_ANTHROPIC = {
    "gen_ai.provider.name": "anthropic",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "claude-sonnet-4-20250514",
    "gen_ai.response.model": "claude-sonnet-4-20250514",
    "gen_ai.response.id": "msg_4",
    "gen_ai.usage.input_tokens": 7100,
    "gen_ai.usage.output_tokens": 250,
    "gen_ai.usage.total_tokens": 7350,
    "gen_ai.usage.cache_read.input_tokens": 5000,
    "gen_ai.usage.cache_creation.input_tokens": 2000,
}


def span(
    attributes: dict[str, Any],
    *,
    span_id: str = "00f067aa0ba902b7",
    parent: str = "",
    resource: dict[str, Any] | None = None,
    failed: bool = False,
    duration_ms: int = 1234,
) -> SpanRecord:
    return SpanRecord(
        trace_id=TRACE_ID,
        span_id=span_id,
        parent_span_id=parent,
        name="chat",
        start_ns=START_NS,
        end_ns=START_NS + duration_ms * 1_000_000,
        attributes=attributes,
        resource=resource or {},
        failed=failed,
    )


def call(attributes: dict[str, Any], **kwargs: Any) -> ModelCall:
    mapped = map_span(span(attributes, **kwargs))
    assert isinstance(mapped, ModelCall), mapped
    return mapped


def tokens(mapped: ModelCall) -> tuple[int, ...]:
    return (
        mapped.input_tokens,
        mapped.output_tokens,
        mapped.cache_read_tokens,
        mapped.cache_write_tokens,
        mapped.cache_write_1h_tokens,
        mapped.reasoning_tokens,
    )


def test_an_openai_v2_chat_span_becomes_one_priced_call():
    mapped = call(OPENAI_V2_CHAT)
    assert mapped.event_id == "openai:chatcmpl-1"
    assert (mapped.provider, mapped.model) == ("openai", "gpt-4o-2024-08-06")
    assert tokens(mapped) == (1200, 300, 0, 0, 0, 0)
    assert mapped.timestamp == datetime(2025, 11, 24, 16, 0, 1, 234000, tzinfo=UTC)
    assert (mapped.latency_ms, mapped.status, mapped.service_tier) == (1234, "success", "standard")


def test_cached_and_reasoning_tokens_are_inside_the_totals_never_added_twice():
    mapped = call(ANTHROPIC_CLIENT_SPAN)
    # input 7,100 already holds the 5,000 read and 2,000 written; output 250 the 80 reasoning.
    assert tokens(mapped) == (7100, 250, 5000, 2000, 500, 80)
    assert tokens(call(OPENLLMETRY_ANTHROPIC)) == (7100, 250, 5000, 2000, 0, 0)


def test_a_raw_anthropic_input_count_gets_its_cache_added_back():
    raw = OPENLLMETRY_ANTHROPIC | {"gen_ai.usage.input_tokens": 100}
    assert tokens(call(raw))[:4] == (7100, 250, 5000, 2000)


def test_reasoning_reported_outside_the_output_is_added_to_it():
    attributes = OPENAI_V2_CHAT | {
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.reasoning.output_tokens": 100,
    }
    assert tokens(call(attributes))[1::4] == (120, 100)


def test_deprecated_names_map_like_the_current_ones():
    deprecated = {
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.prompt_tokens": 100,
        "gen_ai.usage.completion_tokens": 20,
    }
    mapped = call(deprecated)  # no operation name: a span with a model and usage is a call
    assert (mapped.provider, mapped.model, tokens(mapped)[:2]) == (
        "openai",
        "gpt-4o-mini",
        (100, 20),
    )


def test_openinference_token_counts_and_cost():
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "llm.provider": "openai",
        "llm.token_count.prompt": 1000,
        "llm.token_count.completion": 50,
        "llm.token_count.prompt_details.cache_read": 800,
        "llm.token_count.completion_details.reasoning": 10,
        "llm.cost.total": 0.00123,
    }
    mapped = call(attributes)
    assert tokens(mapped) == (1000, 50, 800, 0, 0, 10)
    assert mapped.reported_cost_usd == Decimal("0.00123")
    assert mapped.event_id == f"otel:{TRACE_ID}:00f067aa0ba902b7"


def test_a_span_cost_is_kept_exactly_as_reported():
    assert call(OPENAI_V2_CHAT | {"gen_ai.usage.cost": 0.1}).reported_cost_usd == Decimal("0.1")
    assert call(OPENAI_V2_CHAT).reported_cost_usd is None


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("openai", "openai"),
        ("OpenAI", "openai"),
        ("anthropic", "anthropic"),
        ("gcp.gemini", "google"),
        ("gcp.vertex_ai", "google"),
        ("gcp.gen_ai", "google"),
        ("vertex_ai", "google"),
        ("azure.ai.openai", "azure"),
        ("az.ai.inference", "azure"),
        ("aws.bedrock", "aws"),
        ("x_ai", "x-ai"),
        ("mistral_ai", "mistral"),
        ("deepseek", "deepseek"),
        ("ibm.watsonx.ai", "ibm.watsonx.ai"),
    ],
)
def test_provider_names_are_those_pricing_knows(name, provider):
    assert provider_for_semconv(name) == provider


def test_the_event_id_is_the_sdks_for_the_same_response():
    gemini = OPENAI_V2_CHAT | {
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.response.id": "resp-gemini-1",
        "gen_ai.response.model": "gemini-2.5-flash",
    }
    assert call(gemini).event_id == "google:resp-gemini-1"


def test_without_a_response_id_the_event_id_is_the_spans_own():
    attributes = {k: v for k, v in OPENAI_V2_CHAT.items() if k != "gen_ai.response.id"}
    assert call(attributes).event_id == f"otel:{TRACE_ID}:00f067aa0ba902b7"
    too_long = OPENAI_V2_CHAT | {"gen_ai.response.id": "x" * 200}
    assert call(too_long).event_id == f"otel:{TRACE_ID}:00f067aa0ba902b7"


def test_project_end_user_and_tags_come_from_the_resource_and_the_span():
    resource = {"service.name": "checkout", "llmlab.tags": "prod, eu", "enduser.id": "svc-user"}
    mapped = call(OPENAI_V2_CHAT | {"user.id": "u-42", "llmlab.tags": ["beta"]}, resource=resource)
    assert (mapped.project, mapped.end_user, mapped.tags) == (
        "checkout",
        "u-42",
        ("prod", "eu", "beta"),
    )
    named = call(OPENAI_V2_CHAT, resource={"service.name": "checkout", "llmlab.project": "shop"})
    assert (named.project, named.end_user) == ("shop", None)
    assert call(OPENAI_V2_CHAT, resource={"enduser.id": "svc-user"}).end_user == "svc-user"


def test_an_unnamed_service_is_no_project():
    assert call(OPENAI_V2_CHAT, resource={"service.name": "unknown_service:python"}).project is None


def test_a_failed_call_is_stored_as_an_error_even_without_usage():
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    mapped = call(attributes | {"gen_ai.provider.name": "openai"}, failed=True)
    assert (mapped.status, tokens(mapped)) == ("error", (0, 0, 0, 0, 0, 0))


def test_priority_and_flex_tiers_are_kept():
    assert call(OPENAI_V2_CHAT | {"openai.response.service_tier": "flex"}).service_tier == "flex"
    priority = OPENAI_V2_CHAT | {"gen_ai.openai.response.service_tier": "priority"}
    del priority["openai.response.service_tier"]
    assert call(priority).service_tier == "priority"


@pytest.mark.parametrize(
    "attributes",
    [
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
        {"traceloop.span.kind": "workflow", "gen_ai.usage.input_tokens": 10},
        {"openinference.span.kind": "AGENT", "llm.token_count.prompt": 10},
        {"http.request.method": "POST", "url.full": "https://api.openai.com/v1/chat"},
        # An agent span summing its children's usage.
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 2400,
            "gen_ai.usage.output_tokens": 600,
        },
    ],
)
def test_spans_that_are_not_one_model_call_are_skipped(attributes):
    assert isinstance(map_span(span(attributes)), Skipped)


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        (
            {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 5},
            "without gen_ai.request.model",
        ),
        (
            {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"},
            "without gen_ai.usage",
        ),
        (
            OPENAI_V2_CHAT | {"gen_ai.usage.input_tokens": -1},
            "gen_ai.usage.input_tokens is not a token count",
        ),
        (
            OPENAI_V2_CHAT | {"gen_ai.usage.output_tokens": "many"},
            "gen_ai.usage.output_tokens is not",
        ),
        (OPENAI_V2_CHAT | {"gen_ai.usage.cost": "free"}, "gen_ai.usage.cost is not a cost"),
        (OPENAI_V2_CHAT | {"llm.cost.total": -0.5}, "llm.cost.total is not a cost"),
    ],
)
def test_a_model_call_that_cannot_be_an_event_is_rejected_with_its_reason(attributes, reason):
    mapped = map_span(span(attributes))
    assert isinstance(mapped, Rejected)
    assert mapped.reason.startswith("span 00f067aa0ba902b7: ")
    assert reason in mapped.reason


def test_a_parent_of_model_calls_is_skipped_and_its_children_kept():
    agent = span(
        {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 2400}, span_id="a" * 16
    )
    first = span(OPENAI_V2_CHAT, span_id="b" * 16, parent="a" * 16)
    second = span(
        OPENAI_V2_CHAT | {"gen_ai.response.id": "chatcmpl-2"}, span_id="c" * 16, parent="a" * 16
    )
    mapped = map_spans([first, second, agent])
    assert [type(m).__name__ for m in mapped] == ["ModelCall", "ModelCall", "Skipped"]
    assert mapped[2] == Skipped("encloses model calls")


def test_a_model_call_inside_another_named_one_is_kept_for_the_event_id_to_deduplicate():
    outer = span(OPENLLMETRY_ANTHROPIC, span_id="a" * 16)
    inner = span(ANTHROPIC_CLIENT_SPAN, span_id="b" * 16, parent="a" * 16)
    mapped = map_spans([inner, outer])
    assert [m.event_id for m in mapped if isinstance(m, ModelCall)] == ["anthropic:msg_4"] * 2


def test_openllmetry_names_for_cache_and_reasoning():
    attributes = {
        "gen_ai.system": "OpenAI",
        "llm.request.type": "chat",
        "gen_ai.request.model": "o3",
        "gen_ai.usage.prompt_tokens": 2000,
        "gen_ai.usage.completion_tokens": 900,
        "gen_ai.usage.cache_read_input_tokens": 1500,
        "gen_ai.usage.cache_creation_input_tokens": 0,
        "gen_ai.usage.reasoning_tokens": 700,
    }
    mapped = call(attributes)
    assert (mapped.provider, tokens(mapped)) == ("openai", (2000, 900, 1500, 0, 0, 700))
