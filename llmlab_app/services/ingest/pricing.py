"""What one stored event costs: the one rule ingest and re-pricing share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from llmlab_core import Usage, price_usage
from llmlab_core.pricing.dataset import utc_date
from llmlab_core.pricing.engine import DayPrice, day_price


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


class BatchPricer:
    """`price_event` for many events of one organisation: without overrides, each (model,
    provider, tier, UTC day) is resolved once (`day_price`) and an event costs one call of
    its per-token pricer; the same results, Decimal for Decimal."""

    def __init__(self, overrides: Any) -> None:
        self._overrides = overrides
        self._days: dict[tuple[str, str | None, str, Any], DayPrice | None] = {}

    def price(self, event: Any, at: datetime) -> EventPrice:
        """What `event` (an `EventIn` whose counts fit together) made at `at` costs."""
        day = None
        if not self._overrides:
            key = (event.model, event.provider, event.service_tier, utc_date(at))
            if key in self._days:
                day = self._days[key]
            else:
                day = self._days[key] = day_price(
                    event.model, provider=event.provider, at=at, service_tier=event.service_tier
                )
        if day is None:
            return price_event(
                event.model,
                event.usage(),
                provider=event.provider,
                at=at,
                overrides=self._overrides,
                service_tier=event.service_tier,
                tokens_used=event.tokens_used,
                client_cost=event.cost_usd,
            )
        resolved = event.provider or day.provider or "unknown"
        typed_tokens = event.input_tokens + event.output_tokens
        if event.cost_usd is not None:
            return EventPrice(resolved, event.cost_usd, False, "client", None)
        if typed_tokens == 0 and (event.tokens_used or 0) > 0:
            return EventPrice(resolved, None, True, "engine", None)
        if typed_tokens == 0:
            return EventPrice(resolved, Decimal(0), False, "engine", None)
        if day.pricer is None:
            return EventPrice(resolved, None, True, "engine", None)
        source = day.price_source
        cost_source = "override" if (source or "").startswith("override") else "engine"
        cost = day.pricer.cost(
            event.input_tokens,
            event.cache_read_tokens,
            event.cache_write_tokens,
            event.cache_write_1h_tokens,
            event.output_tokens,
        )
        return EventPrice(resolved, cost, False, cost_source, source)
