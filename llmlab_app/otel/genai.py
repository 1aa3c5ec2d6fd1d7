"""Which spans are model calls, and the LLMLab event each one is: the OpenTelemetry GenAI
semantic conventions (current and deprecated names), OpenLLMetry's and OpenInference's.

Pure: a `SpanRecord` in, a `ModelCall`, `Skipped` or `Rejected` out. Nothing here touches
the database or knows about HTTP.

Token buckets: the conventions count cached input (`gen_ai.usage.cache_read.input_tokens`,
`…cache_creation.input_tokens`) INSIDE `gen_ai.usage.input_tokens`, and reasoning inside
`gen_ai.usage.output_tokens` — LLMLab's own convention (`llmlab_core.usage.Usage`), so the
counts are taken as they are, never added twice. An instrumentation that reports Anthropic's
raw `input_tokens` (cache excluded) shows it by a cache larger than the input; only then are
the cached tokens added back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from llmlab_core.pricing.names import provider_for_semconv

# `gen_ai.operation.name` of one call to a model.
MODEL_CALL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
# Operations around model calls (their usage, if any, is their children's).
ENCLOSING_OPERATIONS = frozenset(
    {"invoke_agent", "create_agent", "invoke_workflow", "execute_tool", "retrieval"}
)
# OpenLLMetry's `traceloop.span.kind` and OpenInference's `openinference.span.kind` of spans
# that enclose calls rather than make one.
ENCLOSING_KINDS = frozenset(
    {"workflow", "task", "agent", "tool", "chain", "retriever", "reranker", "guardrail"}
)
MODEL_CALL_KINDS = frozenset({"llm", "embedding"})

# Each bucket, with every name it goes by, first found wins.
INPUT_TOKENS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
)
OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
CACHE_READ_TOKENS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",  # OpenLLMetry
    "llm.token_count.prompt_details.cache_read",
)
CACHE_WRITE_TOKENS = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens",  # the anthropic client's own spans
    "gen_ai.usage.cache_creation_input_tokens",  # OpenLLMetry
    "llm.token_count.prompt_details.cache_write",
)
# The part of the cache writes that went to Anthropic's 1-hour cache.
CACHE_WRITE_1H_TOKENS = ("anthropic.usage.cache_creation.ephemeral_1h_input_tokens",)
REASONING_TOKENS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",  # OpenLLMetry
    "llm.usage.reasoning_tokens",  # OpenLLMetry, older
    "llm.token_count.completion_details.reasoning",
)
REPORTED_COST = ("gen_ai.usage.cost", "llm.cost.total")
SERVICE_TIER = ("openai.response.service_tier", "gen_ai.openai.response.service_tier")
USAGE_NAMES = (*INPUT_TOKENS, *OUTPUT_TOKENS)
PROVIDER_NAMES = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
MODEL_NAMES = (
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.model_name",
)
# Past this a count is not a token count (the ingest schema's own bound).
MAX_TOKENS = 1_000_000_000
# The ingest schema's bound on an event id; a longer derived one falls back to the span's.
MAX_EVENT_ID_LENGTH = 128
# What the OpenTelemetry SDKs name a service nobody named: not a project.
UNNAMED_SERVICE_PREFIX = "unknown_service"
_TIERS = {"flex": "flex", "priority": "priority", "batch": "batch"}


@dataclass(frozen=True)
class SpanRecord:
    """One received span, as plain values: ids in hex, times in Unix nanoseconds."""

    trace_id: str
    span_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any]
    resource: Mapping[str, Any] = field(default_factory=dict)
    parent_span_id: str = ""
    failed: bool = False


@dataclass(frozen=True)
class ModelCall:
    """One model call, in the fields of an ingest event (`services/events.EventIn`), plus
    the cost the span itself reported."""

    event_id: str
    provider: str | None
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    reasoning_tokens: int
    timestamp: datetime
    latency_ms: int
    status: str
    service_tier: str = "standard"
    project: str | None = None
    end_user: str | None = None
    tags: tuple[str, ...] = ()
    reported_cost_usd: Decimal | None = None
    trace_id: str = ""
    span_id: str = ""


@dataclass(frozen=True)
class Skipped:
    """A span that is not a model call (HTTP, database, an agent around calls): accepted,
    and nothing is stored for it."""

    reason: str


@dataclass(frozen=True)
class Rejected:
    """A model-call span that cannot become an event; reported in `partial_success`."""

    reason: str


Mapped = ModelCall | Skipped | Rejected


def map_spans(spans: Sequence[SpanRecord]) -> list[Mapped]:
    """Each span mapped (`map_span`), in order; a span whose children in the same export
    are model calls is skipped unless it is itself named a model call, so a parent that
    sums its children's usage never counts them twice."""
    calls = [map_span(span) for span in spans]
    parents = {
        span.parent_span_id
        for span, mapped in zip(spans, calls, strict=True)
        if span.parent_span_id and not isinstance(mapped, Skipped)
    }
    return [
        Skipped("encloses model calls")
        if span.span_id in parents and not isinstance(mapped, Skipped) and not _named_call(span)
        else mapped
        for span, mapped in zip(spans, calls, strict=True)
    ]


def map_span(span: SpanRecord) -> Mapped:
    """The event of one span, or why there is none."""
    attributes = span.attributes
    if not _is_model_call(attributes):
        return Skipped(_skip_reason(attributes))
    model = _first_text(attributes, MODEL_NAMES)
    if model is None:
        return Rejected(
            f"span {span.span_id}: a model call without gen_ai.request.model or "
            "gen_ai.response.model"
        )
    try:
        counts = _token_counts(attributes)
        reported_cost = _cost(attributes)
    except ValueError as exc:
        return Rejected(f"span {span.span_id}: {exc}")
    if counts is None and not span.failed:
        return Rejected(f"span {span.span_id}: a model call without gen_ai.usage token counts")
    if span.end_ns <= 0 or span.end_ns < span.start_ns:
        return Rejected(f"span {span.span_id}: no valid end time")
    provider = _provider(attributes)
    input_tokens, output_tokens, cache_read, cache_write, cache_write_1h, reasoning = counts or (
        (0,) * 6
    )
    return ModelCall(
        event_id=_event_id(span, provider),
        provider=provider,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=cache_write_1h,
        reasoning_tokens=reasoning,
        timestamp=datetime.fromtimestamp(span.end_ns / 1e9, UTC),
        latency_ms=(span.end_ns - span.start_ns) // 1_000_000 if span.start_ns > 0 else 0,
        status="error" if span.failed else "success",
        service_tier=_service_tier(attributes),
        project=_project(span),
        end_user=_first_text(attributes, ("user.id", "enduser.id"))
        or _first_text(span.resource, ("user.id", "enduser.id")),
        tags=_tags(span),
        reported_cost_usd=reported_cost,
        trace_id=span.trace_id,
        span_id=span.span_id,
    )


def _operation(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get("gen_ai.operation.name")
    return value.lower() if isinstance(value, str) else None


def _kind(attributes: Mapping[str, Any]) -> str | None:
    for name in ("traceloop.span.kind", "openinference.span.kind"):
        value = attributes.get(name)
        if isinstance(value, str):
            return value.lower()
    return None


def _named_call(span: SpanRecord) -> bool:
    return (
        _operation(span.attributes) in MODEL_CALL_OPERATIONS
        or _kind(span.attributes) in MODEL_CALL_KINDS
    )


def _is_model_call(attributes: Mapping[str, Any]) -> bool:
    operation, kind = _operation(attributes), _kind(attributes)
    if operation in ENCLOSING_OPERATIONS or kind in ENCLOSING_KINDS:
        return False
    if operation in MODEL_CALL_OPERATIONS or kind in MODEL_CALL_KINDS:
        return True
    # No operation named: a span that reports a model and its usage (older instrumentations).
    has_usage = any(name in attributes for name in USAGE_NAMES)
    return has_usage and _first_text(attributes, MODEL_NAMES) is not None


def _skip_reason(attributes: Mapping[str, Any]) -> str:
    operation, kind = _operation(attributes), _kind(attributes)
    if operation in ENCLOSING_OPERATIONS or kind in ENCLOSING_KINDS:
        return f"not a model call ({operation or kind})"
    return "not a GenAI model call"


def _token_counts(attributes: Mapping[str, Any]) -> tuple[int, int, int, int, int, int] | None:
    """(input, output, cache read, cache write, 1-hour cache write, reasoning) in LLMLab's
    buckets, or None when the span reports no usage at all."""
    found = {
        bucket: _first_count(attributes, names)
        for bucket, names in (
            ("input", INPUT_TOKENS),
            ("output", OUTPUT_TOKENS),
            ("cache_read", CACHE_READ_TOKENS),
            ("cache_write", CACHE_WRITE_TOKENS),
            ("cache_write_1h", CACHE_WRITE_1H_TOKENS),
            ("reasoning", REASONING_TOKENS),
        )
    }
    if found["input"] is None and found["output"] is None:
        return None
    input_tokens, output_tokens = found["input"] or 0, found["output"] or 0
    cache_read, cache_write = found["cache_read"] or 0, found["cache_write"] or 0
    cache_write_1h, reasoning = found["cache_write_1h"] or 0, found["reasoning"] or 0
    if cache_read + cache_write > input_tokens:
        # Anthropic's raw count (cache excluded), as some instrumentations pass it on.
        input_tokens += cache_read + cache_write
    if reasoning > output_tokens:
        output_tokens += reasoning
    return input_tokens, output_tokens, cache_read, cache_write, cache_write_1h, reasoning


def _first_count(attributes: Mapping[str, Any], names: Iterable[str]) -> int | None:
    for name in names:
        if name in attributes:
            return _count(name, attributes[name])
    return None


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a token count ({value!r})")
    integral_float = isinstance(value, float) and value.is_integer()
    if integral_float or (isinstance(value, str) and value.strip().isdigit()):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise ValueError(f"{name} is not a token count ({value!r})")
    return value


def _cost(attributes: Mapping[str, Any]) -> Decimal | None:
    for name in REPORTED_COST:
        if name not in attributes:
            continue
        value = attributes[name]
        try:
            # Through str: a double's shortest repr, never its binary expansion.
            cost = Decimal(str(value)) if isinstance(value, int | float | str) else None
        except InvalidOperation:
            cost = None
        if cost is None or isinstance(value, bool) or not cost.is_finite() or cost < 0:
            raise ValueError(f"{name} is not a cost in USD ({value!r})")
        return cost
    return None


def _provider(attributes: Mapping[str, Any]) -> str | None:
    name = _first_text(attributes, PROVIDER_NAMES)
    return provider_for_semconv(name) if name else None


def _service_tier(attributes: Mapping[str, Any]) -> str:
    tier = _first_text(attributes, SERVICE_TIER)
    return _TIERS.get((tier or "").lower(), "standard")


def _event_id(span: SpanRecord, provider: str | None) -> str:
    """`<provider>:<response id>`, the SDK's and the gateway's id for the same response, so
    a call they also saw is stored once; else one derived from the span, the same on every
    re-export."""
    response_id = _first_text(span.attributes, ("gen_ai.response.id",))
    if provider and response_id:
        event_id = f"{provider}:{response_id}"
        if len(event_id) <= MAX_EVENT_ID_LENGTH:
            return event_id
    return f"otel:{span.trace_id}:{span.span_id}"


def _project(span: SpanRecord) -> str | None:
    project = _first_text(span.attributes, ("llmlab.project",)) or _first_text(
        span.resource, ("llmlab.project",)
    )
    if project:
        return project
    service = _first_text(span.resource, ("service.name",))
    if service and not service.startswith(UNNAMED_SERVICE_PREFIX):
        return service
    return None


def _tags(span: SpanRecord) -> tuple[str, ...]:
    """`llmlab.tags` of the resource then the span: a string array, or one comma-separated
    string (what `OTEL_RESOURCE_ATTRIBUTES` can carry)."""
    tags: list[str] = []
    for attributes in (span.resource, span.attributes):
        value = attributes.get("llmlab.tags")
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list):
            for item in items:
                tag = item.strip() if isinstance(item, str) else ""
                if tag and tag not in tags:
                    tags.append(tag)
    return tuple(tags)


def _first_text(attributes: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
