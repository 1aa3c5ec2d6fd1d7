"""The genai-prices dataset behind the built-in providers, corrected and compiled per period.

Which dataset: the one bundled with genai-prices, or a newer file in genai-prices' own data
format (its `data.json`: a JSON array of providers) loaded with `use_prices_file` — the
`LLMLAB_PRICES_FILE` setting — so operators can take a price change without a release. The
reviewed overlay (`corrections.py`) is applied on top of either.

One genai-prices `calc_price` costs ~60 µs (a generic unit-decomposition engine). For the usage
kinds LLMLab records (input, cache read, cache write and its 1-hour part, output) that engine
reduces to a few per-token rates, so each (provider, model) is resolved once, and each of its
price periods (per service tier) is compiled into a `TokenPricer` holding those rates and the
tier thresholds. The dataset stays the single source of truth;
tests/core/test_dataset_equivalence.py proves the pricer equal to `calc_price`.

A period whose `ModelPrice` prices something our usage cannot express exactly (a per-request fee,
a unit that would need usage we do not record) is priced by genai-prices itself (slow path).

genai_prices is imported lazily: it pulls httpx and a 1.5 MB data module, and importing
llmlab_core must stay cheap.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from llmlab_core.errors import PricesFileError
from llmlab_core.pricing import corrections
from llmlab_core.pricing.rates import (
    ModelPrices,
    PriceResult,
    PriceTier,
    ServiceTier,
    TokenPricer,
    cost_of,
    unpriced_result,
)
from llmlab_core.usage import Usage

# price key in the dataset -> our usage kind
_CORE_PRICE_KEYS = {
    "input_mtok": "input",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_mtok": "output",
}
_REPORTED_USAGE_KEYS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
)
# Keys our usage cannot report separately (we only know the 1-hour part of cache writes).
_UNREPORTED_CACHE_KEYS = ("cache_write_5m_mtok",)
TIER_CONTEXTS: dict[str, dict[str, str]] = {
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
_MAX_MEMO = 20_000

DatasetKind = Literal["dataset", "prices file"]


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """Which dataset prices are read from.

    `kind` is "dataset" (bundled with genai-prices) or "prices file" (`LLMLAB_PRICES_FILE`);
    `as_of` is the file's modification date (None for the bundled dataset);
    `price_source` is what dataset-priced results record, e.g. `genai-prices 0.2.3`.
    """

    kind: DatasetKind
    name: str
    as_of: date | None
    price_source: str


@cache
def dataset_version() -> str:
    """Version of the installed genai-prices package (and its bundled dataset)."""
    return version("genai-prices")


@cache
def _bundled_info() -> DatasetInfo:
    name = f"genai-prices {dataset_version()}"
    return DatasetInfo(kind="dataset", name=name, as_of=None, price_source=name)


_prices_file: tuple[DatasetInfo, list[Any]] | None = None


def dataset_info() -> DatasetInfo:
    """The dataset in use."""
    return _prices_file[0] if _prices_file else _bundled_info()


def price_source() -> str:
    """`price_source` recorded on dataset-priced results, e.g. `genai-prices 0.2.3`."""
    return dataset_info().price_source


def read_prices_file(path: Path) -> tuple[DatasetInfo, list[Any]]:
    """A genai-prices data file (JSON array of providers) and its description.

    Raises `PricesFileError` with the reason when it cannot be used.
    """
    from genai_prices.types import _providers_from_raw

    try:
        raw = json.loads(path.read_bytes())
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
    except (OSError, ValueError) as exc:
        raise PricesFileError(f"cannot read prices file {str(path)!r}: {exc}") from exc
    if not isinstance(raw, list):
        raise PricesFileError(
            f"prices file {str(path)!r} is not genai-prices data (expected a JSON array of "
            "providers, as in genai-prices' data.json)"
        )
    try:
        providers = _providers_from_raw(raw)
    except (ValidationError, ValueError, TypeError) as exc:
        first_line = str(exc).splitlines()[0]
        raise PricesFileError(f"prices file {str(path)!r} is invalid: {first_line}") from exc
    if not providers:
        raise PricesFileError(f"prices file {str(path)!r} lists no provider")
    info = DatasetInfo(
        kind="prices file",
        name=str(path),
        as_of=modified,
        price_source=f"prices file {modified.isoformat()}",
    )
    return info, providers


def use_prices_file(path: Path | None) -> DatasetInfo:
    """Price from the genai-prices data file at `path` (None: the bundled dataset again).

    Raises `PricesFileError` and keeps the current dataset when the file cannot be used.
    """
    global _prices_file
    if path is None and _prices_file is None:
        return dataset_info()
    loaded = read_prices_file(path) if path is not None else None
    _prices_file = loaded
    _forget_compiled()
    return dataset_info()


def base_providers() -> list[Any]:
    """The dataset's providers before corrections (the prices file's, else the bundled ones)."""
    if _prices_file is not None:
        return _prices_file[1]
    from genai_prices.data_snapshot import _bundled_snapshot

    return _bundled_snapshot().providers


@dataclass(frozen=True, slots=True)
class _Corrected:
    snapshot: Any  # genai_prices.data_snapshot.DataSnapshot
    skipped: list[str]
    one_hour_filled: frozenset[tuple[str, str]]


_corrected: _Corrected | None = None


def snapshot() -> Any:
    """The dataset with the overlay applied, as a genai-prices `DataSnapshot` (built once)."""
    return _corrected_snapshot().snapshot


def skipped_corrections() -> list[str]:
    """Ids of corrections the dataset in use has no provider or model for."""
    return _corrected_snapshot().skipped


def one_hour_filled() -> frozenset[tuple[str, str]]:
    """(provider, model id) pairs a 1-hour write rule gave a 1-hour price."""
    return _corrected_snapshot().one_hour_filled


def _corrected_snapshot() -> _Corrected:
    global _corrected
    if _corrected is None:
        from genai_prices.data_snapshot import DataSnapshot

        applied = corrections.apply_overlay(base_providers(), corrections.load_overlay())
        _corrected = _Corrected(
            snapshot=DataSnapshot(providers=applied.providers, from_auto_update=False),
            skipped=applied.skipped,
            one_hour_filled=applied.one_hour_filled,
        )
    return _corrected


def _forget_compiled() -> None:
    global _corrected
    _corrected = None
    _resolved.clear()


def utc_date(at: datetime) -> date:
    """The UTC calendar date of `at` (naive datetimes are taken as UTC)."""
    if at.tzinfo is None or at.tzinfo is UTC:
        return at.date()
    return at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """One price period of a model in one service tier: its prices and the compiled pricer
    (None = slow path)."""

    prices: ModelPrices
    pricer: TokenPricer | None
    raw: Any  # genai_prices.types.ModelPrice

    def breakdown(self, usage: Usage) -> dict[str, Decimal]:
        """Cost of `usage` by kind in this period."""
        if self.pricer is not None:
            return self.pricer.breakdown(usage)
        return _slow_breakdown(self.raw, usage)


def _slow_breakdown(raw: Any, usage: Usage) -> dict[str, Decimal]:
    # genai-prices only splits input from output, so cache kinds are folded into input here.
    from genai_prices import Usage as DatasetUsage

    result = raw.calc_price(DatasetUsage(**to_dataset_usage(usage)))
    zero = Decimal(0)
    return {
        "input": result["input_price"],
        "cache_read": zero,
        "cache_write": zero,
        "output": result["output_price"],
    }


def to_dataset_usage(usage: Usage) -> dict[str, int]:
    """Our usage as genai-prices usage keywords (reasoning is already inside output)."""
    return {key: getattr(usage, key) for key in _REPORTED_USAGE_KEYS}


def _variant_active(info: Any, context: dict[str, str], at: datetime) -> bool:
    """Whether `info` has a price variant for `context` in force at `at` (genai-prices' rule)."""
    for variant in info.price_variants or ():
        if variant.constraint is not None and not variant.constraint.active(at):
            continue
        if all(context.get(key) == value for key, value in variant.when.items()):
            return True
    return False


class DatasetModel:
    """A dataset model resolved for one provider, its price periods compiled per service tier
    on first use."""

    __slots__ = ("_dynamic", "_info", "_periods", "_starts", "canonical_model", "provider")

    def __init__(self, provider: str, info: Any) -> None:
        from genai_prices import types

        self.provider = provider
        self.canonical_model: str = info.id
        self._info = info
        self._periods: dict[tuple[str, date | None], PricePeriod | None] = {}
        prices = info.prices
        constraints = [] if isinstance(prices, types.ModelPrice) else [p.constraint for p in prices]
        variant_constraints = [v.constraint for v in info.price_variants or ()]
        # Time-of-day prices (off-peak discounts) change within a day: resolve them per call.
        self._dynamic = any(
            isinstance(c, types.TimeOfDateConstraint) for c in constraints + variant_constraints
        )
        standard = {c.start_date for c in constraints if isinstance(c, types.StartDateConstraint)}
        overlay = corrections.load_overlay()
        self._starts: dict[str, list[date]] = {"standard": sorted(standard)}
        for tier, context in TIER_CONTEXTS.items():
            days = set(standard)
            for variant in info.price_variants or ():
                if isinstance(variant.constraint, types.StartDateConstraint) and all(
                    context.get(key) == value for key, value in variant.when.items()
                ):
                    days.add(variant.constraint.start_date)
            days |= {
                rule.valid_from
                for rule in overlay.tier_rules
                if rule.provider == provider and rule.service_tier == tier and rule.valid_from
            }
            self._starts[tier] = sorted(days)

    def price(
        self, provider: str, model: str, usage: Usage, at: datetime, tier: ServiceTier
    ) -> PriceResult:
        """Cost of one call to `model` (the name as sent) at `at` in `tier`; unpriced when the
        tier has no price."""
        period = self.period_at(at, tier)
        if period is None:
            return unpriced_result(model, provider, self.canonical_model)
        breakdown = period.breakdown(usage)
        return PriceResult(
            provider=provider,
            model=model,
            canonical_model=self.canonical_model,
            cost_usd=cost_of(breakdown),
            unpriced=False,
            price_source=period.prices.price_source,
            breakdown=breakdown,
        )

    @property
    def dynamic(self) -> bool:
        """Whether its prices change within a day (time-of-day prices)."""
        return self._dynamic

    def period_at(self, at: datetime, tier: ServiceTier = "standard") -> PricePeriod | None:
        """The price period in force at `at` for `tier`; None when the tier has no price."""
        if self._dynamic:
            return self._compile_period(tier, at, None)
        starts = self._starts[tier]
        index = bisect_right(starts, utc_date(at))
        start = starts[index - 1] if index else None
        key = (tier, start)
        if key not in self._periods:
            self._periods[key] = self._compile_period(
                tier, corrections.start_timestamp(start), start
            )
        return self._periods[key]

    def _compile_period(
        self, tier: ServiceTier, at: datetime, start: date | None
    ) -> PricePeriod | None:
        applied: list[str] = []
        if tier == "standard":
            raw = self._info.get_prices(at)
        else:
            context = TIER_CONTEXTS[tier]
            if _variant_active(self._info, context, at):
                raw = self._info.get_prices(at, context)
            else:
                rule = corrections.tier_rule(
                    corrections.load_overlay(), self.provider, tier, utc_date(at)
                )
                if rule is None:
                    return None
                raw = corrections.scaled(self._info.get_prices(at), rule.factor)
                applied.append(rule.id)
        source = _source_of(self.provider, self.canonical_model, tier, start, applied)
        prices = model_prices_from(raw, self.provider, self.canonical_model, start, source, tier)
        return PricePeriod(prices=prices, pricer=_compile(raw, prices), raw=raw)


def _source_of(provider: str, model: str, tier: str, start: date | None, rules: list[str]) -> str:
    """`price_source` of a period: `overlay:<ids>` when corrections shaped it, else the dataset."""
    overlay = corrections.load_overlay()
    ids = [
        entry.id
        for entry in overlay.corrections
        if entry.provider == provider
        and entry.model == model
        and (entry.when is None or entry.when == TIER_CONTEXTS.get(tier))
        and (entry.match is not None or entry.active_on(start))
    ]
    ids += rules
    if (provider, model) in _corrected_snapshot().one_hour_filled:
        rule = corrections.one_hour_rule_for(overlay, model)
        ids += [rule.id] if rule else []
    if not ids:
        return price_source()
    # The events table stores 100 characters of it.
    return ("overlay:" + "+".join(ids))[:100]


def _price_at(value: Any, input_tokens: int) -> Decimal | None:
    """A dataset price (flat or tiered) for a request of `input_tokens`, per genai-prices rules."""
    from genai_prices.types import TieredPrices

    if not isinstance(value, TieredPrices):
        return value
    for tier in reversed(value.tiers):
        if input_tokens > tier.start:
            return tier.price
    return value.base


def model_prices_from(
    raw: Any,
    provider: str,
    canonical_model: str,
    start: date | None,
    source: str | None = None,
    tier: ServiceTier = "standard",
) -> ModelPrices:
    """A dataset `ModelPrice` as our per-million `ModelPrices` (tiers flattened per threshold)."""
    from genai_prices.types import TieredPrices

    values = {kind: getattr(raw, key, None) for key, kind in _CORE_PRICE_KEYS.items()}
    thresholds = sorted(
        {
            tier.start
            for value in values.values()
            if isinstance(value, TieredPrices)
            for tier in value.tiers
        }
    )
    tiers = tuple(
        PriceTier(
            threshold=threshold,
            **{kind: _price_at(value, threshold + 1) for kind, value in values.items()},
        )
        for threshold in thresholds
    )
    return ModelPrices(
        provider=provider,
        canonical_model=canonical_model,
        price_source=source or price_source(),
        tiers=tiers,
        period_start=start,
        service_tier=tier,
        **{kind: _price_at(value, 0) for kind, value in values.items()},
    )


def _compile(raw: Any, prices: ModelPrices) -> TokenPricer | None:
    """A fast pricer for `raw`, or None when some priced unit would make it differ from the dataset.

    With only our usage keys reported, a priced unit outside them contributes nothing unless it
    is 'requests' (a per-call fee) or an ancestor of a reported key (genai-prices would then
    demand that usage explicitly).
    """
    from genai_prices.units import _get_registry

    registry = _get_registry()
    reported = [registry.units[key] for key in _REPORTED_USAGE_KEYS]
    for key, value in raw.__dict__.items():
        if value is None or key.startswith("_") or key in _CORE_PRICE_KEYS:
            continue
        if key in _UNREPORTED_CACHE_KEYS:
            return None
        try:
            unit = registry.unit_for_price_key(key)
        except KeyError:
            return None
        if unit.usage_key == "requests":
            return None
        if any(unit.dimensions.items() <= other.dimensions.items() for other in reported):
            return None
    return TokenPricer(prices)


_resolved: dict[tuple[str, str], DatasetModel | None] = {}


def resolve(provider: str, model: str) -> DatasetModel | None:
    """The dataset model `model` resolves to for `provider` (aliases, dated names), memoised."""
    key = (provider, model)
    try:
        return _resolved[key]
    except KeyError:
        pass
    try:
        _, info = snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        resolved = None
    else:
        resolved = DatasetModel(provider, info)
    if len(_resolved) >= _MAX_MEMO:
        # Unknown names arrive from clients: bound the memo instead of growing forever.
        _resolved.clear()
    _resolved[key] = resolved
    return resolved


def _dataset_provider(provider: str) -> Any | None:
    from genai_prices.data_snapshot import find_provider_by_id

    return find_provider_by_id(snapshot().providers, provider)


def knows_provider(provider: str) -> bool:
    """Whether the dataset has a provider with this id (or one its provider rules accept)."""
    return _dataset_provider(provider) is not None


def is_provider_id(name: str) -> bool:
    """Whether `name` is exactly a dataset provider id (used to recognise `id/model` prefixes)."""
    return any(provider.id == name for provider in snapshot().providers)


def provider_model_ids(provider: str) -> list[str]:
    """Model ids the dataset lists for `provider` (no fallbacks to other providers)."""
    found = _dataset_provider(provider)
    return [model.id for model in found.models] if found else []


def provider_claims(provider: str, model: str) -> bool:
    """Whether `model` looks like one of `provider`'s: a listed model or its naming pattern."""
    found = _dataset_provider(provider)
    if found is None:
        return False
    ref = model.lower()
    if found.model_match is not None and found.model_match.is_match(ref):
        return True
    return any(candidate.is_match(ref) for candidate in found.models)
