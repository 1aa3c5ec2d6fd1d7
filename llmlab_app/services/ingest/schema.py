"""What a source hands to ingest: one LLM call (`EventIn`), validated and normalised."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import SchemaValidator, core_schema

from llmlab_core import Usage

MAX_TOKENS = 1_000_000_000
MAX_BATCH_EVENTS = 1_000
MAX_METADATA_BYTES = 16_384
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST_TIMESTAMP = datetime(2015, 1, 1, tzinfo=UTC)

# Which ingress an event came through (the `cost_events.source` column).
Source = Literal["api", "sdk", "otlp", "gateway"]
SOURCES: tuple[Source, ...] = ("api", "sdk", "otlp", "gateway")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TokenCount = Annotated[int, Field(ge=0, le=MAX_TOKENS)]
Cost = Annotated[Decimal, Field(ge=0, le=1_000_000, allow_inf_nan=False)]

_CONTROL_CHARACTERS = r"\x00-\x1f\x7f"  # a regex character range
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL_CHARACTERS}]")


def _no_control_characters(value: str | None) -> str | None:
    if value is not None and _CONTROL_CHARACTER.search(value):
        raise ValueError("must not contain control characters")
    return value


class EventIn(BaseModel):
    """One LLM call as a client reports it."""

    model_config = ConfigDict(extra="ignore")

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="Client idempotency key; re-sending it never counts twice."
    )
    provider: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    input_tokens: TokenCount = Field(0, description="Total input tokens, cache included.")
    output_tokens: TokenCount = Field(0, description="Output tokens, reasoning included.")
    cache_read_tokens: TokenCount = 0
    cache_write_tokens: TokenCount = Field(
        0, description="Every cache write, 1-hour ones included."
    )
    cache_write_1h_tokens: TokenCount = Field(
        0, description="The part of cache_write_tokens written to the 1-hour cache (Anthropic)."
    )
    reasoning_tokens: TokenCount = 0
    service_tier: Literal["standard", "batch", "flex", "priority"] = Field(
        "standard",
        description="The rates the call was billed at (batch APIs, OpenAI flex/priority).",
    )
    tokens_used: Annotated[int, Field(ge=0, le=2 * MAX_TOKENS)] | None = Field(
        default=None, description="Legacy total; alone it is stored unpriced."
    )
    cost_usd: Cost | None = Field(
        default=None, description="Client-reported cost; kept and marked as such."
    )
    reported_cost_usd: Cost | None = Field(
        default=None,
        description="A cost the sender computed, kept beside LLMLab's own price (not used "
        "as the price).",
    )
    timestamp: datetime | None = None
    project: Name | None = None
    end_user: Annotated[str, StringConstraints(max_length=200)] | None = None
    tags: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=64)]], Field(max_length=20)
    ] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    latency_ms: Annotated[int, Field(ge=0, le=86_400_000)] | None = None
    status: Literal["success", "error"] = "success"
    source: Literal["api", "sdk"] = Field(
        "api",
        description="`sdk` when LLMLab's SDK sent it. `otlp` and `gateway` are set by those "
        "ingresses, never by a client.",
    )

    @field_validator("event_id", "provider", "model", "project", "end_user")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return _no_control_characters(value)

    @field_validator("tags")
    @classmethod
    def _printable_tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            _no_control_characters(tag)
        return value

    @field_validator("timestamp")
    @classmethod
    def _sane_timestamp(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("must not be more than 5 minutes in the future")
        if value < OLDEST_TIMESTAMP:
            raise ValueError("must not be before 2015-01-01")
        return value

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        # Most events carry none: no JSON encoding to measure it (~2 us per event).
        if value and len(json.dumps(value, default=str)) > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
        return value

    def usage(self) -> Usage:
        """The typed usage; raises ValueError when the counts contradict each other."""
        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens,
            reasoning_tokens=self.reasoning_tokens,
        )


def usage_or_reason(event: EventIn) -> Usage | str:
    """The event's usage, or why its counts cannot be stored (they contradict each other)."""
    try:
        return event.usage()
    except ValueError as exc:
        return exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)


def counts_conflict(event: EventIn) -> str | None:
    """Why the event's counts cannot be stored (they contradict each other), or None."""
    # `Usage`'s own rule, without building one per event (~9 us): only a refusal needs it.
    if (
        event.cache_read_tokens + event.cache_write_tokens <= event.input_tokens
        and event.cache_write_1h_tokens <= event.cache_write_tokens
        and event.reasoning_tokens <= event.output_tokens
    ):
        return None
    reason = usage_or_reason(event)
    return reason if isinstance(reason, str) else None


# --- a batch checked in one pass ---------------------------------------------------------
# Each of `EventIn`'s Python validators costs an interpreter call per event. `validate_batch`
# validates a batch against EventIn's own core schema with those functions replaced by native
# checks (a pattern for printable text) and makes the rest (timestamps, metadata size) in one
# loop over the batch. Whatever it would not accept goes through `EventBatch` (the route's
# declared body) as before, which decides and words the error.

_PRINTABLE = f"^[^{_CONTROL_CHARACTERS}]*$"  # what `_no_control_characters` accepts
_PRINTABLE_FIELDS = ("event_id", "provider", "model", "project", "end_user", "tags")


def _native(schema: Any, printable: bool = False) -> Any:
    """`schema` without its Python functions; its strings printable when `printable`."""
    if isinstance(schema, list):
        return [_native(value, printable) for value in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-after":
        return _native(schema["schema"], printable)
    if schema.get("type") == "model-fields":
        fields = {
            name: _native(field, name in _PRINTABLE_FIELDS)
            for name, field in schema["fields"].items()
        }
        return {**schema, "fields": fields}
    native = {key: _native(value, printable) for key, value in schema.items()}
    if printable and schema.get("type") == "str":
        native["pattern"] = _PRINTABLE
    return native


def _native_batch_validator() -> SchemaValidator:
    schema = core_schema.typed_dict_schema(
        {
            "events": core_schema.typed_dict_field(
                core_schema.list_schema(
                    _native(EventIn.__pydantic_core_schema__),
                    min_length=1,
                    max_length=MAX_BATCH_EVENTS,
                )
            )
        },
        extra_behavior="forbid",
    )
    # pydantic-core reuses a complete model's own validator for a schema naming its class,
    # which would bring the Python validators back (still correct, only slower).
    EventIn.__pydantic_complete__ = False
    try:
        return SchemaValidator(schema)
    finally:
        EventIn.__pydantic_complete__ = True


_NATIVE_BATCH = _native_batch_validator()


def validate_batch(body: bytes) -> list[EventIn] | None:
    """The events of `body`, the JSON of an `{"events": [...]}` batch, exactly as
    `EventBatch` validates it once parsed; None when it is not such a batch or `EventBatch`
    would refuse it (then let `json.loads` and `EventBatch` say why)."""
    if not body[:16].lstrip().startswith(b'{"events"'):
        return None  # e.g. a single event: a failed attempt would cost it ~4 us
    try:
        events: list[EventIn] = _NATIVE_BATCH.validate_json(body)["events"]
    except ValidationError:
        return None
    latest = datetime.now(UTC) + FUTURE_TOLERANCE
    for event in events:
        values = event.__dict__
        metadata = values["metadata"]
        if metadata and len(json.dumps(metadata, default=str)) > MAX_METADATA_BYTES:
            return None
        stamp = values["timestamp"]
        if stamp is not None:
            stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
            if not OLDEST_TIMESTAMP <= stamp <= latest:
                return None
            values["timestamp"] = stamp
    return events
