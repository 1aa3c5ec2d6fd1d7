"""Re-pricing stored events after a correction or an override with a past `valid_from`: each
event's cost is recomputed with the prices in force at its time, and the daily rollup moves by
the difference, batch by batch. Running it again changes nothing. Budget alert history is not
rewritten (an alert records what was spent when it fired)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from llmlab_app.db.models import NO_KEY, NO_PROJECT, CostEvent, DailySpend
from llmlab_app.db.types import as_decimal, money_text, quantize_money
from llmlab_app.db.upsert import upsert_adding
from llmlab_app.services import audit
from llmlab_app.services.change_feed import record_change
from llmlab_app.services.ingest import ROLLUP_SUMS, price_event
from llmlab_app.services.permissions import Actor, Permission, require
from llmlab_app.services.prices import overrides_for
from llmlab_app.services.spend import model_identity, resolve_range
from llmlab_core import Usage, canonical_model
from llmlab_core.periods import day_instants

BATCH_SIZE = 1_000
_ROLLUP_KEY = ("org_id", "project_id", "day", "provider", "model", "api_key_id")


@dataclass(frozen=True)
class RepriceResult:
    start: date
    end: date
    events: int  # events in the window that have a price to recompute
    changed: int
    before_usd: Decimal
    after_usd: Decimal


def reprice_events(
    session: Session,
    *,
    actor: Actor,
    start: date | None,
    end: date | None,
    model: str | None = None,
) -> RepriceResult:
    """Recompute the costs of the organisation's events on [start, end] (inclusive UTC days;
    a start alone runs to today), optionally only one model (any of its names), committing
    each batch with its rollup change. Costs the client reported are kept as they are.
    Needs `manage_prices`."""
    require(actor, Permission.MANAGE_PRICES)
    org_id = actor.org_id
    start, end = resolve_range(start, end)
    since, until = day_instants(start, end)
    overrides = overrides_for(session, org_id=org_id)
    wanted = None if model is None else {model.lower(), (canonical_model(model) or model).lower()}
    events = changed = 0
    before = after = Decimal(0)
    after_key: tuple[Any, Any] | None = None
    while True:
        query = (
            select(CostEvent)
            .where(
                CostEvent.org_id == org_id,
                CostEvent.timestamp >= since,
                CostEvent.timestamp < until,
                CostEvent.cost_source != "client",
            )
            .order_by(col(CostEvent.timestamp), col(CostEvent.id))
            .limit(BATCH_SIZE)
        )
        if after_key is not None:
            moment, last_id = after_key
            query = query.where(
                or_(
                    CostEvent.timestamp > moment,
                    and_(CostEvent.timestamp == moment, col(CostEvent.id) > last_id),
                )
            )
        batch = list(session.exec(query))
        if not batch:
            break
        after_key = (batch[-1].timestamp, batch[-1].id)
        deltas: dict[tuple[Any, ...], dict[str, Any]] = {}
        for event in batch:
            if wanted is not None and not _is_model(event, wanted):
                continue
            events += 1
            old = as_decimal(event.cost_usd) if event.cost_usd is not None else None
            price = price_event(
                event.model,
                _usage(event),
                provider=event.provider,
                at=event.timestamp,
                overrides=overrides,
                service_tier=event.service_tier,
                tokens_used=event.tokens_used,
            )
            new = None if price.cost_usd is None else quantize_money(price.cost_usd)
            before += old or 0
            after += new or 0
            if new == old and price.unpriced == event.unpriced:
                continue
            # Conditional on the cost read: of two runs at once, only one moves the rollup.
            moved = session.execute(
                update(CostEvent)
                .where(
                    col(CostEvent.id) == event.id,
                    col(CostEvent.cost_usd).is_not_distinct_from(event.cost_usd),
                )
                .values(
                    cost_usd=new,
                    unpriced=price.unpriced,
                    cost_source=price.cost_source,
                    price_source=price.price_source,
                )
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                continue
            changed += 1
            _add_delta(deltas, event, (new or 0) - (old or 0), price.unpriced - event.unpriced)
        upsert_adding(
            session,
            DailySpend,
            [deltas[key] for key in sorted(deltas)],
            key_columns=_ROLLUP_KEY,
            add_columns=ROLLUP_SUMS,
        )
        session.commit()
    audit.record(
        session,
        actor=actor,
        action="prices.repriced",
        target=model,
        details={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "changed": changed,
            "before_usd": money_text(before),
            "after_usd": money_text(after),
        },
    )
    session.commit()
    if changed:
        record_change(actor.org_id)
    return RepriceResult(start, end, events, changed, before, after)


def _is_model(event: CostEvent, wanted: set[str]) -> bool:
    return bool({event.model.lower(), model_identity(event.model, event.provider).lower()} & wanted)


def _usage(event: CostEvent) -> Usage:
    return Usage(
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cache_read_tokens=event.cache_read_tokens,
        cache_write_tokens=event.cache_write_tokens,
        cache_write_1h_tokens=event.cache_write_1h_tokens,
        reasoning_tokens=event.reasoning_tokens,
    )


def _add_delta(
    deltas: dict[tuple[Any, ...], dict[str, Any]],
    event: CostEvent,
    cost_change: Decimal,
    unpriced_change: int,
) -> None:
    key = (
        event.org_id,
        event.project_id or NO_PROJECT,
        event.timestamp.date(),
        event.provider,
        event.model,
        event.api_key_id or NO_KEY,
    )
    # Every sum, zero but for the two that move: the row exists (the event was rolled up).
    delta = deltas.setdefault(
        key, dict(zip(_ROLLUP_KEY, key, strict=True)) | dict.fromkeys(ROLLUP_SUMS, 0)
    )
    delta["unpriced_calls"] += unpriced_change
    delta["cost_usd"] += cost_change
