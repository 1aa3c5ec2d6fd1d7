"""What one stored event costs: the one rule ingest and re-pricing share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from llmlab_core import Usage, price_usage


@dataclass(frozen=True, slots=True)
class EventPrice:
    provider: str
    cost_usd: Decimal | None
    unpriced: bool
    cost_source: str  # "engine", "override" or "client"
    price_source: str | None


def price_event(
    model: str,
    usage: Usage,
    *,
    provider: str | None,
    at: datetime,
    overrides: Any,
    service_tier: Any = "standard",
    tokens_used: int | None = None,
    client_cost: Decimal | None = None,
) -> EventPrice:
    """What one stored event costs. A cost the client reported is kept as such; a legacy
    total alone cannot be priced; nothing consumed costs nothing, whatever the model."""
    price = price_usage(
        model, usage, provider=provider, at=at, overrides=overrides, service_tier=service_tier
    )
    resolved = provider or price.provider or "unknown"
    typed_tokens = usage.input_tokens + usage.output_tokens
    if client_cost is not None:
        return EventPrice(resolved, client_cost, False, "client", None)
    if typed_tokens == 0 and (tokens_used or 0) > 0:
        return EventPrice(resolved, None, True, "engine", None)
    if typed_tokens == 0:
        return EventPrice(resolved, Decimal(0), False, "engine", None)
    source = price.price_source
    cost_source = "override" if (source or "").startswith("override") else "engine"
    return EventPrice(resolved, price.cost_usd, price.unpriced, cost_source, source)
