"""Prices: dataset lookups and per-organisation overrides.

Order of precedence: an organisation's overrides, then LLMLab's reviewed corrections, then the
price dataset (bundled with genai-prices, or `LLMLAB_PRICES_FILE`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from llmlab_app.config import Settings
from llmlab_app.db.models import PriceOverride as PriceOverrideRow
from llmlab_app.db.types import money_text
from llmlab_app.errors import Conflict, NotFound
from llmlab_app.services import audit
from llmlab_app.services.permissions import Actor, Permission, require
from llmlab_core import PriceOverride, ResolvedModel, UnknownModelError, resolve_model
from llmlab_core.pricing import ServiceTier, use_prices_file
from llmlab_core.pricing.dataset import DatasetInfo, dataset_info


def use_configured_prices(settings: Settings) -> DatasetInfo:
    """Price from `settings.prices_file` (`LLMLAB_PRICES_FILE`), else the bundled dataset.

    Raises `PricesFileError` (the server refuses to start) when the file cannot be used.
    """
    return use_prices_file(settings.prices_file)


def prices_dataset() -> DatasetInfo:
    """The price dataset in use: its kind, name and date."""
    return dataset_info()


def resolve_prices(
    model: str,
    *,
    provider: str | None = None,
    at: datetime | None = None,
    service_tier: ServiceTier = "standard",
) -> ResolvedModel:
    """How `model` resolves and its prices in `service_tier` at `at`; `NotFound` when unpriced."""
    resolved = resolve_model(model, provider, at=at, service_tier=service_tier)
    if resolved is None:
        raise NotFound(str(UnknownModelError(model, provider)))
    if resolved.prices is None:
        raise NotFound(f"no {service_tier} price known for model {model!r}")
    return resolved


def overrides_for(session: Session, *, org_id: uuid.UUID) -> list[PriceOverride]:
    """The organisation's overrides as the core engine takes them."""
    return [
        PriceOverride(
            id=str(row.id),
            provider=row.provider,
            model=row.model,
            input=row.input_per_mtok,
            cache_read=row.cache_read_per_mtok,
            cache_write=row.cache_write_per_mtok,
            output=row.output_per_mtok,
            valid_from=row.valid_from,
        )
        for row in list_overrides(session, org_id=org_id)
    ]


# Built once: this runs on every track, and building the statement cost more than running it.
_ORG_OVERRIDES = (
    select(PriceOverrideRow)
    .where(col(PriceOverrideRow.org_id) == bindparam("org_id"))
    .order_by(PriceOverrideRow.provider, PriceOverrideRow.model, col(PriceOverrideRow.valid_from))
)


def list_overrides(session: Session, *, org_id: uuid.UUID) -> list[PriceOverrideRow]:
    return list(session.exec(_ORG_OVERRIDES, params={"org_id": org_id}))


def create_override(
    session: Session,
    *,
    actor: Actor,
    provider: str,
    model: str,
    input_per_mtok: Decimal,
    output_per_mtok: Decimal,
    cache_read_per_mtok: Decimal | None = None,
    cache_write_per_mtok: Decimal | None = None,
    valid_from: datetime | None = None,
) -> PriceOverrideRow:
    """An override of the actor's organisation (admins and owners)."""
    require(actor, Permission.MANAGE_PRICES)
    valid_from = valid_from or datetime(1970, 1, 1, tzinfo=UTC)
    duplicate = session.exec(
        select(PriceOverrideRow.id).where(
            PriceOverrideRow.org_id == actor.org_id,
            PriceOverrideRow.provider == provider,
            PriceOverrideRow.model == model,
            PriceOverrideRow.valid_from == valid_from,
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"an override for {provider}/{model} from {valid_from:%Y-%m-%d} exists")
    row = PriceOverrideRow(
        org_id=actor.org_id,
        provider=provider,
        model=model,
        input_per_mtok=input_per_mtok,
        output_per_mtok=output_per_mtok,
        cache_read_per_mtok=cache_read_per_mtok,
        cache_write_per_mtok=cache_write_per_mtok,
        valid_from=valid_from,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="price.created",
        target=f"{provider}/{model}",
        details=_about(row),
    )
    session.commit()
    return row


def delete_override(session: Session, *, actor: Actor, override_id: uuid.UUID) -> bool:
    """False when the override is not the organisation's."""
    require(actor, Permission.MANAGE_PRICES)
    row = session.get(PriceOverrideRow, override_id)
    if row is None or row.org_id != actor.org_id:
        return False
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action="price.deleted",
        target=f"{row.provider}/{row.model}",
        details=_about(row),
    )
    session.commit()
    return True


def _about(row: PriceOverrideRow) -> dict[str, str | None]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else money_text(value)

    return {
        "override_id": str(row.id),
        "input_per_mtok": text(row.input_per_mtok),
        "cache_read_per_mtok": text(row.cache_read_per_mtok),
        "cache_write_per_mtok": text(row.cache_write_per_mtok),
        "output_per_mtok": text(row.output_per_mtok),
        "valid_from": row.valid_from.isoformat(),
    }
