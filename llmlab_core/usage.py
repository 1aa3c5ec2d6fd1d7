"""Typed token usage of one LLM call."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmlab_core.errors import InvalidUsageError

MAX_TOKENS = 1_000_000_000

TokenCount = Annotated[int, Field(ge=0, le=MAX_TOKENS, strict=True)]

# Every token bucket a call reports, in one place: events, rollups and summaries carry these.
TOKEN_KINDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)


class Usage(BaseModel):
    """Token counts of one call, in the dataset's convention.

    `input_tokens` is the TOTAL input, cached reads and cache writes included (Anthropic's raw
    `input_tokens` excludes them: add them back before building a `Usage`). `cache_write_tokens`
    is every cache write; `cache_write_1h_tokens` is the part of it written to Anthropic's 1-hour
    cache (the rest went to the 5-minute cache). `output_tokens` includes `reasoning_tokens`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: TokenCount = 0
    cache_read_tokens: TokenCount = 0
    cache_write_tokens: TokenCount = 0
    cache_write_1h_tokens: TokenCount = 0
    output_tokens: TokenCount = 0
    reasoning_tokens: TokenCount = 0

    @model_validator(mode="after")
    def _check_parts_fit_in_totals(self) -> Usage:
        cached = self.cache_read_tokens + self.cache_write_tokens
        if cached > self.input_tokens:
            raise InvalidUsageError(
                f"cache_read_tokens ({self.cache_read_tokens}) + cache_write_tokens "
                f"({self.cache_write_tokens}) = {cached} exceeds input_tokens "
                f"({self.input_tokens}); input_tokens must be the total input, cache included"
            )
        if self.cache_write_1h_tokens > self.cache_write_tokens:
            raise InvalidUsageError(
                f"cache_write_1h_tokens ({self.cache_write_1h_tokens}) exceeds cache_write_tokens "
                f"({self.cache_write_tokens}); cache_write_tokens must be every cache write, "
                "1-hour ones included"
            )
        if self.reasoning_tokens > self.output_tokens:
            raise InvalidUsageError(
                f"reasoning_tokens ({self.reasoning_tokens}) exceeds output_tokens "
                f"({self.output_tokens}); output_tokens must include reasoning"
            )
        return self

    @property
    def tokens_used(self) -> int:
        """Total tokens of the call (input + output), kept for older clients."""
        return self.input_tokens + self.output_tokens
