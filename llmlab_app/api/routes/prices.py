"""Price lookups from the dataset (no login needed)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.schemas import PricesOut
from llmlab_app.errors import NotFound
from llmlab_core import UnknownModelError, model_prices

router = APIRouter(prefix="/api/prices", tags=["prices"])


@router.get("", response_model=Envelope[PricesOut])
def get_prices(
    model: Annotated[str, Query(min_length=1, max_length=200)],
    provider: Annotated[str | None, Query(max_length=64)] = None,
    at: Annotated[datetime | None, Query(description="Prices in force at this time")] = None,
) -> Envelope[PricesOut]:
    """Per-million-token prices per usage kind for a model, and where they come from."""
    try:
        prices = model_prices(model, provider=provider, at=at)
    except (UnknownModelError, LookupError) as exc:
        raise NotFound(str(exc)) from exc
    return ok(
        PricesOut(
            provider=prices.provider,
            model=model,
            canonical_model=prices.canonical_model,
            price_source=prices.price_source,
            input_per_mtok=prices.input,
            cache_read_per_mtok=prices.cache_read,
            cache_write_per_mtok=prices.cache_write,
            output_per_mtok=prices.output,
            tiers=[tier.model_dump(mode="json") for tier in prices.tiers],
        )
    )
