"""Spend summaries, read from the daily rollup (thousands of rows, not millions of events)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from llmlab_app.db.models import NO_PROJECT, DailySpend
from llmlab_app.db.types import as_decimal
from llmlab_app.errors import InvalidInput
from llmlab_app.services.projects import project_names, require_project_id
from llmlab_core import (
    Forecast,
    Period,
    UsageRow,
    canonical_model,
    forecast_spend,
    period_bounds,
)
from llmlab_core.periods import InvalidRangeError, day_range, recorded_days, today_utc
from llmlab_core.usage import TOKEN_KINDS


@dataclass
class SpendTotals:
    calls: int = 0
    error_calls: int = 0
    unpriced_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    def add(self, row: Any) -> None:
        self.calls += row.calls
        self.error_calls += row.error_calls
        self.unpriced_calls += row.unpriced_calls
        for kind in TOKEN_KINDS:
            setattr(self, kind, getattr(self, kind) + getattr(row, kind))
        self.cost_usd += as_decimal(row.cost_usd)


@dataclass
class SpendSummary:
    start: date
    end: date  # inclusive
    project: str | None
    totals: SpendTotals
    # Keyed by (provider, canonical model id): the dataset's one name for a model's variants.
    by_model: list[tuple[tuple[str, str], SpendTotals]] = field(default_factory=list)
    # The names each canonical model was recorded under, with their own totals.
    model_variants: dict[tuple[str, str], list[tuple[str, SpendTotals]]] = field(
        default_factory=dict
    )
    by_provider: list[tuple[str, SpendTotals]] = field(default_factory=list)
    by_project: list[tuple[str | None, SpendTotals]] = field(default_factory=list)
    by_day: list[tuple[date, SpendTotals]] = field(default_factory=list)


def resolve_range(start: date | None, end: date | None) -> tuple[date, date]:
    """Inclusive UTC days a request means (`llmlab_core.day_range`), as a 422 when invalid."""
    try:
        return day_range(start, end)
    except InvalidRangeError as exc:
        raise InvalidInput(str(exc)) from exc


def rollup_rows(
    session: Session,
    *,
    user_id: uuid.UUID,
    start: date,
    end: date,
    project_id: uuid.UUID | None = None,
) -> list[Any]:
    """Rollup rows for [start, end] (inclusive), optionally one project."""
    query = select(DailySpend).where(
        DailySpend.user_id == user_id, DailySpend.day >= start, DailySpend.day <= end
    )
    if project_id is not None:
        query = query.where(DailySpend.project_id == project_id)
    return list(session.exec(query))


def summarize_spend(
    session: Session,
    *,
    user_id: uuid.UUID,
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
) -> SpendSummary:
    """Totals and breakdowns for a date range; `by_day` has every day up to today, zeros
    included (days after today hold nothing yet and are left out).

    The database sums the rollup per breakdown, so Python handles a few dozen rows whatever
    the range holds (a month of a busy account is thousands of rollup rows).
    """
    start, end = resolve_range(start, end)
    params = {
        "user_id": user_id,
        "start": start,
        "end": end,
        "project_id": require_project_id(session, user_id=user_id, name=project),
    }
    by_project_filter = params["project_id"] is not None

    def grouped(*keys: str) -> list[Any]:
        return list(session.execute(_grouped_rollup(keys, by_project_filter), params))

    totals = SpendTotals()
    by_model: dict[tuple[str, str], SpendTotals] = {}
    variants: dict[tuple[str, str], dict[str, SpendTotals]] = {}
    by_provider: dict[str, SpendTotals] = {}
    for row in grouped("provider", "model"):
        totals.add(row)
        key = (row.provider, model_identity(row.model, row.provider))
        by_model.setdefault(key, SpendTotals()).add(row)
        variants.setdefault(key, {}).setdefault(row.model, SpendTotals()).add(row)
        by_provider.setdefault(row.provider, SpendTotals()).add(row)
    by_project: dict[uuid.UUID, SpendTotals] = {}
    for row in grouped("project_id"):
        by_project.setdefault(row.project_id, SpendTotals()).add(row)
    by_day = {day: SpendTotals() for day in recorded_days(start, end)}
    for row in grouped("day"):
        by_day.setdefault(row.day, SpendTotals()).add(row)
    names = project_names(session, ids=[pid for pid in by_project if pid != NO_PROJECT])
    return SpendSummary(
        start=start,
        end=end,
        project=project,
        totals=totals,
        by_model=_ranked(by_model.items()),
        model_variants={key: _ranked(names.items()) for key, names in variants.items()},
        by_provider=_ranked(by_provider.items()),
        by_project=_ranked((names.get(pid), t) for pid, t in by_project.items()),
        by_day=sorted(by_day.items()),
    )


def model_identity(model: str, provider: str) -> str:
    """The name spend is grouped under: the dataset's canonical id (`gpt-4o-2024-08-06` and
    `gpt-4o` are one model), or the name as recorded when the dataset does not know it."""
    return canonical_model(model, provider=provider) or model


_SUMMED = ("calls", "error_calls", "unpriced_calls", *TOKEN_KINDS, "cost_usd")


@lru_cache(maxsize=16)
def _grouped_rollup(keys: tuple[str, ...], one_project: bool) -> Any:
    """Rollup sums per `keys` for a user and date range (bound at execution); built once."""
    table = DailySpend.__table__.c  # type: ignore[attr-defined]
    query = select(
        *(table[key] for key in keys), *(func.sum(table[name]).label(name) for name in _SUMMED)
    ).where(
        table.user_id == bindparam("user_id"),
        table.day >= bindparam("start"),
        table.day <= bindparam("end"),
    )
    if one_project:
        query = query.where(table.project_id == bindparam("project_id"))
    return query.group_by(*(table[key] for key in keys))


def _ranked(items: Iterable[tuple[Any, SpendTotals]]) -> list[tuple[Any, SpendTotals]]:
    return sorted(items, key=lambda item: (-item[1].cost_usd, -item[1].calls, str(item[0])))


def daily_costs(
    session: Session,
    *,
    user_id: uuid.UUID,
    start: date,
    end: date,
    project_id: uuid.UUID | None = None,
) -> dict[date, Decimal]:
    """Priced spend per day in [start, end]; days without spend are absent."""
    query = (
        select(DailySpend.day, func.sum(DailySpend.cost_usd))
        .where(DailySpend.user_id == user_id, DailySpend.day >= start, DailySpend.day <= end)
        .group_by(DailySpend.day)
    )
    if project_id is not None:
        query = query.where(DailySpend.project_id == project_id)
    return {day: as_decimal(cost) for day, cost in session.exec(query)}


def usage_rows(
    session: Session, *, user_id: uuid.UUID, start: date, end: date, project: str | None = None
) -> list[UsageRow]:
    """Rollup rows in the shape the core what-if and recommendation engines take."""

    rows = rollup_rows(
        session,
        user_id=user_id,
        start=start,
        end=end,
        project_id=require_project_id(session, user_id=user_id, name=project),
    )
    return [
        UsageRow(
            day=row.day,
            provider=row.provider,
            model=row.model,
            calls=row.calls,
            input_tokens=row.input_tokens,
            cache_read_tokens=row.cache_read_tokens,
            cache_write_tokens=row.cache_write_tokens,
            cache_write_1h_tokens=row.cache_write_1h_tokens,
            output_tokens=row.output_tokens,
            reasoning_tokens=row.reasoning_tokens,
            cost_usd=as_decimal(row.cost_usd),
            unpriced_calls=row.unpriced_calls,
        )
        for row in rows
    ]


FORECAST_HISTORY_DAYS = 28


@dataclass(frozen=True)
class PeriodForecast:
    period: str
    period_start: date
    period_end: date  # exclusive
    forecast: Forecast


def forecast_period(
    session: Session,
    *,
    user_id: uuid.UUID,
    period: Period = "monthly",
    project_id: uuid.UUID | None = None,
    limit_usd: Decimal | None = None,
    today: date | None = None,
) -> PeriodForecast:
    """Spend forecast for the end of the current daily/weekly/monthly period (UTC), from the
    day-of-week-aware rate of the last 28 days (see llmlab_core.forecast)."""
    today = today or today_utc()
    start, end = period_bounds(period, today)
    history_start = min(start, today - timedelta(days=FORECAST_HISTORY_DAYS))
    costs = daily_costs(
        session, user_id=user_id, start=history_start, end=today, project_id=project_id
    )
    forecast = forecast_spend(
        costs,
        period_start=start,
        period_end=end,
        today=today,
        limit_usd=limit_usd,
        history_days=FORECAST_HISTORY_DAYS,
    )
    return PeriodForecast(period=period, period_start=start, period_end=end, forecast=forecast)
