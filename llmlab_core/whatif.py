"""What spend would have been had a share of one model's calls gone to another model.

The moved calls keep their token counts (input, cache reads, cache writes, output) and are billed
with the target model's prices, cache rules and long-context tiers in force on each day. Rollup
rows hold daily sums, not single calls, so the tier is chosen by the AVERAGE input per call of
the day: a day mixing short and very long calls is priced as if every call were average.
Calls without a price on the source model cannot be compared and are left out of both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from llmlab_core.errors import UnknownModelError
from llmlab_core.pricing.engine import canonical_model, model_prices
from llmlab_core.pricing.rates import ModelPrices, TokenPricer, cost_of
from llmlab_core.providers.registry import infer_provider
from llmlab_core.rollups import UsageRow

_ZERO = Decimal(0)


class WhatIfDay(BaseModel):
    """One day of a what-if: spend as recorded (`old`) and with the switch (`new`)."""

    model_config = ConfigDict(frozen=True)

    day: date
    old: Decimal
    new: Decimal
    savings: Decimal


class WhatIfResult(BaseModel):
    """Spend over all given rows as recorded and with the switch; savings = old - new."""

    model_config = ConfigDict(frozen=True)

    from_model: str
    to_model: str
    to_provider: str
    share: Decimal
    old_cost_usd: Decimal
    new_cost_usd: Decimal
    savings_usd: Decimal
    calls_moved: int
    by_day: list[WhatIfDay]


def whatif(
    rows: Iterable[UsageRow],
    *,
    from_model: str,
    to_model: str,
    share: Decimal,
    to_provider: str | None = None,
) -> WhatIfResult:
    """Re-price `share` (0..1) of the calls to `from_model` as if sent to `to_model`.

    Rows of `from_model` match by name or by canonical name (so dated names count). Raises
    `UnknownModelError` when `to_model` has no price, `ValueError` for a share outside 0..1.
    """
    share = Decimal(share)
    if not _ZERO <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    target_provider = to_provider or infer_provider(to_model)
    if target_provider is None:
        raise UnknownModelError(to_model)
    source = _ModelMatcher(from_model)
    target = _TargetPricer(to_model, target_provider)

    old_by_day: dict[date, Decimal] = {}
    new_by_day: dict[date, Decimal] = {}
    moved_calls = _ZERO
    for row in rows:
        old_by_day[row.day] = old_by_day.get(row.day, _ZERO) + row.cost_usd
        new_by_day.setdefault(row.day, _ZERO)
        if not source.matches(row) or not row.priced_calls:
            new_by_day[row.day] += row.cost_usd
            continue
        moved_old, moved_new, moved = _move(row, share, target)
        new_by_day[row.day] += row.cost_usd - moved_old + moved_new
        moved_calls += moved

    by_day = [
        WhatIfDay(day=day, old=old, new=new_by_day[day], savings=old - new_by_day[day])
        for day, old in sorted(old_by_day.items())
    ]
    old_total = sum((day.old for day in by_day), _ZERO)
    new_total = sum((day.new for day in by_day), _ZERO)
    return WhatIfResult(
        from_model=from_model,
        to_model=to_model,
        to_provider=target_provider,
        share=share,
        old_cost_usd=old_total,
        new_cost_usd=new_total,
        savings_usd=old_total - new_total,
        calls_moved=int(moved_calls.to_integral_value()),
        by_day=by_day,
    )


def _move(row: UsageRow, share: Decimal, target: _TargetPricer) -> tuple[Decimal, Decimal, Decimal]:
    """(old cost, new cost, calls) of the moved share of a row's priced calls."""
    # Token sums include unpriced calls; scale them to the priced calls, which `cost_usd` covers.
    priced_fraction = Decimal(row.priced_calls) / row.calls
    scale = share * priced_fraction
    average_input = Decimal(row.input_tokens) / row.calls
    breakdown = target.pricer_on(row.day).breakdown_totals(
        row.input_tokens * scale,
        row.cache_read_tokens * scale,
        row.cache_write_tokens * scale,
        row.output_tokens * scale,
        tier_input_tokens=average_input,
    )
    return row.cost_usd * share, cost_of(breakdown), row.priced_calls * share


class _ModelMatcher:
    """Matches rows of a model by name or canonical name, memoised per row model."""

    def __init__(self, model: str) -> None:
        self._names = {model.lower()}
        canonical = canonical_model(model)
        if canonical:
            self._names.add(canonical.lower())
        self._seen: dict[tuple[str, str], bool] = {}

    def matches(self, row: UsageRow) -> bool:
        key = (row.provider, row.model)
        if key not in self._seen:
            canonical = canonical_model(row.model, provider=row.provider) or row.model
            self._seen[key] = bool({row.model.lower(), canonical.lower()} & self._names)
        return self._seen[key]


class _TargetPricer:
    """The target model's pricer for each day (prices can change between days)."""

    def __init__(self, model: str, provider: str) -> None:
        self._model = model
        self._provider = provider
        self._by_day: dict[date, TokenPricer] = {}
        self._by_prices: dict[ModelPrices, TokenPricer] = {}

    def pricer_on(self, day: date) -> TokenPricer:
        if day not in self._by_day:
            at = datetime.combine(day, time(12), UTC)
            prices = model_prices(self._model, provider=self._provider, at=at)
            if prices not in self._by_prices:
                self._by_prices[prices] = TokenPricer(prices)
            self._by_day[day] = self._by_prices[prices]
        return self._by_day[day]
