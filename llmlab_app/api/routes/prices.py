"""Price lookups from the dataset (no login needed), the account's overrides, re-pricing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from llmlab_app.api.deps import PriceManager, Reader, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.schemas import OverrideIn, OverrideOut, PricesOut, RepriceIn, RepriceOut
from llmlab_app.errors import NotFound
from llmlab_app.services import prices, repricing

router = APIRouter(prefix="/api/prices", tags=["prices"])


@router.get("", response_model=Envelope[PricesOut])
def get_model_prices(
    model: Annotated[str, Query(min_length=1, max_length=200)],
    provider: Annotated[str | None, Query(max_length=64)] = None,
    at: Annotated[datetime | None, Query(description="Prices in force at this time")] = None,
    service_tier: Annotated[
        Literal["standard", "batch", "flex", "priority"],
        Query(description="standard, batch (Batch API), flex or priority"),
    ] = "standard",
) -> Envelope[PricesOut]:
    """Per-million-token prices per usage kind for a model (provider prefixes such as
    `openai/gpt-4o` and dated ids resolve to one canonical model), where they come from, and the
    date of the price dataset in use."""
    resolved = prices.resolve_prices(model, provider=provider, at=at, service_tier=service_tier)
    found, dataset = resolved.prices, prices.prices_dataset()
    assert found is not None
    return ok(
        PricesOut(
            provider=found.provider,
            model=model,
            canonical_model=found.canonical_model,
            service_tier=found.service_tier,
            price_source=found.price_source,
            source=resolved.source,
            dataset=dataset.kind if dataset.kind == "prices file" else dataset.name,
            prices_as_of=dataset.as_of,
            input_per_mtok=found.input,
            cache_read_per_mtok=found.cache_read,
            cache_write_per_mtok=found.cache_write,
            cache_write_1h_per_mtok=found.cache_write_1h,
            output_per_mtok=found.output,
            tiers=[tier.model_dump(mode="json") for tier in found.tiers],
        )
    )


@router.post("/reprice", response_model=Envelope[RepriceOut])
def reprice(body: RepriceIn, actor: PriceManager, session: SessionDep) -> Envelope[RepriceOut]:
    """Recompute the stored costs of a window's events (and the daily rollup) with the prices
    in force at each event's time: after a correction or an override with a past
    `valid_from`. Idempotent; client-reported costs and budget alert history are kept."""
    result = repricing.reprice_events(
        session, actor=actor, start=body.start, end=body.end, model=body.model
    )
    return ok(RepriceOut.model_validate(result, from_attributes=True))


@router.get("/overrides", response_model=Envelope[list[OverrideOut]])
def list_overrides(actor: Reader, session: SessionDep) -> Envelope[list[OverrideOut]]:
    """The organisation's own prices (negotiated discounts, fine-tunes, self-hosted models)."""
    rows = prices.list_overrides(session, org_id=actor.org_id)
    return ok([OverrideOut.model_validate(row, from_attributes=True) for row in rows])


@router.post("/overrides", status_code=201, response_model=Envelope[OverrideOut])
def create_override(
    body: OverrideIn, actor: PriceManager, session: SessionDep
) -> Envelope[OverrideOut]:
    """Set per-million-token prices for a model; they win over the dataset for events from
    `valid_from` on. Events already stored keep the price they were recorded with."""
    row = prices.create_override(session, actor=actor, **body.model_dump())
    return ok(OverrideOut.model_validate(row, from_attributes=True))


@router.delete("/overrides/{override_id}", response_model=Envelope[dict])
def delete_override(
    override_id: uuid.UUID, actor: PriceManager, session: SessionDep
) -> Envelope[dict]:
    """Remove an override; new events are priced from the dataset again."""
    if not prices.delete_override(session, actor=actor, override_id=override_id):
        raise NotFound("price override not found")
    return ok({"deleted": True, "id": str(override_id)})
