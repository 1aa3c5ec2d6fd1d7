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
from sqlmodel import Session, col, select

from llmlab_app.db.models import NO_KEY, NO_PROJECT, ApiKey, DailySpend, User
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
    # Asked for with `by_key`: which key (None: sent with a login token or recorded before
    # keys were kept) and which member who created it spent what.
    by_key: list[tuple[KeyOwner | None, SpendTotals]] | None = None
    by_member: list[tuple[MemberRef | None, SpendTotals]] | None = None


@dataclass(frozen=True)
class MemberRef:
    user_id: uuid.UUID
    email: str


@dataclass(frozen=True)
class KeyOwner:
    """An API key as spend is attributed to it: the key and the member who created it."""

    key_id: uuid.UUID
    name: str
    prefix: str
    revoked: bool
    created_by: MemberRef | None  # None once that account is deleted


def resolve_range(start: date | None, end: date | None) -> tuple[date, date]:
    """Inclusive UTC days a request means (`llmlab_core.day_range`), as a 422 when invalid."""
    try:
        return day_range(start, end)
    except InvalidRangeError as exc:
        raise InvalidInput(str(exc)) from exc


def rollup_rows(
    session: Session,
    *,
    org_id: uuid.UUID,
    start: date,
    end: date,
    project_id: uuid.UUID | None = None,
) -> list[Any]:
    """Rollup rows for [start, end] (inclusive), optionally one project."""
    query = select(DailySpend).where(
        DailySpend.org_id == org_id, DailySpend.day >= start, DailySpend.day <= end
    )
    if project_id is not None:
        query = query.where(DailySpend.project_id == project_id)
    return list(session.exec(query))


def summarize_spend(
    session: Session,
    *,
    org_id: uuid.UUID,
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
    by_key: bool = False,
) -> SpendSummary:
    """Totals and breakdowns for a date range; `by_day` has every day up to today, zeros
    included (days after today hold nothing yet and are left out). With `by_key`, also
    spend per API key and per member who created the key (from the rollup, so it outlives
    the raw events).

    The database sums the rollup per breakdown, so Python handles a few dozen rows whatever
    the range holds (a month of a busy account is thousands of rollup rows).
    """
    start, end = resolve_range(start, end)
    params = {
        "org_id": org_id,
        "start": start,
        "end": end,
        "project_id": require_project_id(session, org_id=org_id, name=project),
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
    summary = SpendSummary(
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
    if by_key:
        spent_by_key: dict[uuid.UUID, SpendTotals] = {}
        for row in grouped("api_key_id"):
            spent_by_key.setdefault(row.api_key_id, SpendTotals()).add(row)
        summary.by_key, summary.by_member = _key_and_member_spend(session, spent_by_key)
    return summary


def _key_and_member_spend(
    session: Session, spent: dict[uuid.UUID, SpendTotals]
) -> tuple[list[tuple[KeyOwner | None, SpendTotals]], list[tuple[MemberRef | None, SpendTotals]]]:
    rows = session.exec(
        select(ApiKey, User.email)
        .join(User, col(User.id) == ApiKey.user_id, isouter=True)
        .where(col(ApiKey.id).in_([key_id for key_id in spent if key_id != NO_KEY]))
    ).all()
    owners = {
        key.id: KeyOwner(
            key_id=key.id,
            name=key.name,
            prefix=key.prefix,
            revoked=key.revoked_at is not None,
            created_by=MemberRef(key.user_id, email) if key.user_id and email else None,
        )
        for key, email in rows
    }
    by_member: dict[MemberRef | None, SpendTotals] = {}
    for key_id, totals in spent.items():
        owner = owners.get(key_id)
        member = owner.created_by if owner else None
        by_member.setdefault(member, SpendTotals()).add(totals)
    by_key = [(owners.get(key_id), totals) for key_id, totals in spent.items()]
    return _ranked(by_key), _ranked(by_member.items())


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
        table.org_id == bindparam("org_id"),
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
    org_id: uuid.UUID,
    start: date,
    end: date,
    project_id: uuid.UUID | None = None,
) -> dict[date, Decimal]:
    """Priced spend per day in [start, end]; days without spend are absent."""
    query = (
        select(DailySpend.day, func.sum(DailySpend.cost_usd))
        .where(DailySpend.org_id == org_id, DailySpend.day >= start, DailySpend.day <= end)
        .group_by(DailySpend.day)
    )
    if project_id is not None:
        query = query.where(DailySpend.project_id == project_id)
    return {day: as_decimal(cost) for day, cost in session.exec(query)}


def usage_rows(
    session: Session, *, org_id: uuid.UUID, start: date, end: date, project: str | None = None
) -> list[UsageRow]:
    """Rollup rows in the shape the core what-if and recommendation engines take."""

    rows = rollup_rows(
        session,
        org_id=org_id,
        start=start,
        end=end,
        project_id=require_project_id(session, org_id=org_id, name=project),
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
    org_id: uuid.UUID,
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
        session, org_id=org_id, start=history_start, end=today, project_id=project_id
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
