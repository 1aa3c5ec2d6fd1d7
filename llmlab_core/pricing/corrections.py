"""The reviewed overlay on the genai-prices dataset: `corrections.json`, and what it changes.

Each correction names a provider and a model, the dataset price fields it sets (in genai-prices'
own keys: `input_mtok`, `cache_write_1h_mtok`, tiered `{"base", "tiers"}` values ...), the
dates it holds for and the sources it was checked against. Three shapes:

- a patch of a model the dataset has (`model` is the dataset id), from `valid_from` to `valid_to`;
- a price variant (`when`, e.g. `{"processing": "batch"}`) added in front of the dataset's own;
- a model the dataset lacks (`match`, genai-prices' match rules): it is asked before the dataset's
  models, so a looser dataset rule (`contains: gemini-1.5-flash`) no longer decides for it.

`tier_rules` price a service tier the dataset has no variant for as a share of the standard
prices (OpenAI's and Anthropic's batch APIs bill 50% of every rate). `one_hour_write_rules` give
models that bill cache writes but have no 1-hour price one (Claude: 2x input, on every host).

The overlay wins over the dataset; an account's own overrides win over both (the engine applies
them first). `differences` lists every place the overlay differs from a dataset, for
`llmlab prices check`: a correction the dataset has caught up with is dead and is removed.
"""

from __future__ import annotations

import json
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmlab_core.errors import CorrectionsError

CORRECTIONS_FILE = "corrections.json"

TierName = Literal["batch", "flex", "priority"]
PriceValue = Decimal | dict[str, Any] | None


class Source(BaseModel):
    """Where a correction was checked: a provider's pricing page or a second maintained table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    table: str | None = None
    checked: date
    says: str

    @model_validator(mode="after")
    def _names_a_place(self) -> Source:
        if not (self.url or self.table):
            raise ValueError("a source needs a url (pricing page) or a table (name and version)")
        return self


class Correction(BaseModel):
    """One reviewed correction of the dataset (see the module docstring for its shapes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider: str
    model: str
    match: dict[str, Any] | None = None
    when: dict[str, str] | None = None
    prices: dict[str, PriceValue]
    valid_from: date | None = None
    valid_to: date | None = None
    why: str
    sources: list[Source] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape_is_consistent(self) -> Correction:
        if not self.prices:
            raise ValueError(f"correction {self.id!r} sets no price")
        if self.match is not None and (self.when or self.valid_from or self.valid_to):
            raise ValueError(
                f"correction {self.id!r} adds a model: its prices hold for all dates; "
                "a later change is a separate patch entry"
            )
        if self.when is not None and self.valid_to is not None:
            raise ValueError(f"correction {self.id!r}: a price variant has no valid_to")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(f"correction {self.id!r}: valid_to must be after valid_from")
        return self

    def active_on(self, day: date | None) -> bool:
        """Whether the correction holds for a period starting on `day` (None: the first)."""
        if self.valid_from is not None and (day is None or day < self.valid_from):
            return False
        return self.valid_to is None or (day or date.min) < self.valid_to


class TierRule(BaseModel):
    """A service tier billed at `factor` times every standard rate where the dataset has no
    price variant for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider: str
    service_tier: TierName
    factor: Decimal = Field(gt=0)
    valid_from: date | None = None
    why: str
    sources: list[Source] = Field(min_length=1)


class OneHourWriteRule(BaseModel):
    """Models whose id contains `model_contains` and that bill cache writes without a 1-hour
    price bill 1-hour writes at `factor` times input (in every period, tier and variant)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    model_contains: str
    factor: Decimal = Field(gt=0)
    why: str
    sources: list[Source] = Field(min_length=1)

    def covers(self, model_id: str) -> bool:
        """Whether the rule is about this model id."""
        return self.model_contains in model_id.lower()


class Overlay(BaseModel):
    """The whole corrections file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reviewed_against: str
    notes: list[str] = []
    corrections: list[Correction]
    tier_rules: list[TierRule] = []
    one_hour_write_rules: list[OneHourWriteRule] = []

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Overlay:
        ids = [
            entry.id for entry in [*self.corrections, *self.tier_rules, *self.one_hour_write_rules]
        ]
        duplicates = sorted({entry for entry in ids if ids.count(entry) > 1})
        if duplicates:
            raise ValueError(f"duplicate correction ids: {duplicates}")
        return self


@cache
def load_overlay() -> Overlay:
    """The overlay shipped in this package (read once)."""
    text = resources.files(__package__).joinpath(CORRECTIONS_FILE).read_text(encoding="utf-8")
    try:
        return Overlay.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise CorrectionsError(f"invalid {CORRECTIONS_FILE}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Applied:
    """The corrected providers; the ids of corrections skipped because their provider or model
    is not in the dataset (a newer prices file may have renamed one; `llmlab prices check` lists
    them); and the (provider, model id) pairs a 1-hour write rule gave a 1-hour price."""

    providers: list[Any]
    skipped: list[str]
    one_hour_filled: frozenset[tuple[str, str]]


def apply_overlay(providers: list[Any], overlay: Overlay) -> Applied:
    """`providers` (genai-prices `Provider`s) with the overlay applied (see `Applied`).

    Providers and models that change are copied; the dataset given is left as it is.
    """
    by_provider: dict[str, list[Correction]] = {}
    for entry in overlay.corrections:
        by_provider.setdefault(entry.provider, []).append(entry)
    known = {provider.id for provider in providers}
    skipped = [
        entry.id for name, entries in by_provider.items() if name not in known for entry in entries
    ]
    result = []
    for provider in providers:
        entries = by_provider.get(provider.id)
        if not entries:
            result.append(provider)
            continue
        corrected = copy(provider)
        models = [_new_model(entry) for entry in entries if entry.match is not None]
        models += provider.models
        for entry in entries:
            if entry.match is not None:
                continue
            patched = _patched(models, entry)
            if patched is None:
                skipped.append(entry.id)
            else:
                models = patched
        corrected.models = models
        result.append(corrected)
    filled: set[tuple[str, str]] = set()
    final = [_with_one_hour_rules(provider, overlay, filled) for provider in result]
    return Applied(providers=final, skipped=skipped, one_hour_filled=frozenset(filled))


def one_hour_rule_for(overlay: Overlay, model_id: str) -> OneHourWriteRule | None:
    """The 1-hour write rule about `model_id`, if any."""
    return next((rule for rule in overlay.one_hour_write_rules if rule.covers(model_id)), None)


def _with_one_hour_rules(provider: Any, overlay: Overlay, filled: set[tuple[str, str]]) -> Any:
    models = []
    changed = False
    for info in provider.models:
        rule = one_hour_rule_for(overlay, info.id)
        patched = _with_one_hour_price(info, rule.factor) if rule else info
        if patched is not info:
            changed = True
            filled.add((provider.id, info.id))
        models.append(patched)
    if not changed:
        return provider
    corrected = copy(provider)
    corrected.models = models
    return corrected


def _with_one_hour_price(info: Any, factor: Decimal) -> Any:
    """`info` with a 1-hour write price of `factor` x input wherever it bills cache writes
    without one; `info` itself when nothing changes."""
    from genai_prices import types

    def fill(raw: Any) -> Any:
        if raw.cache_write_mtok is None or raw.cache_write_1h_mtok is not None:
            return raw
        if raw.input_mtok is None:
            return raw
        one_hour = scaled(types.ModelPrice(input_mtok=raw.input_mtok), factor).input_mtok
        return types.ModelPrice(**(raw.__dict__ | {"cache_write_1h_mtok": one_hour}))

    if isinstance(info.prices, types.ModelPrice):
        prices: Any = fill(info.prices)
        changed = prices is not info.prices
    else:
        prices = [
            types.ConditionalPrice(constraint=item.constraint, prices=fill(item.prices))
            for item in info.prices
        ]
        changed = any(
            new.prices is not old.prices for new, old in zip(prices, info.prices, strict=True)
        )
    variants = []
    for variant in info.price_variants or ():
        # A variant that sets its own input and cache-write prices needs its own 1-hour price.
        filled = fill(variant.prices) if variant.prices.input_mtok is not None else variant.prices
        changed = changed or filled is not variant.prices
        variants.append(
            types.PriceVariant(when=variant.when, prices=filled, constraint=variant.constraint)
        )
    if not changed:
        return info
    patched = copy(info)
    patched.prices = prices
    patched.price_variants = variants or info.price_variants
    return patched


def _patched(models: list[Any], entry: Correction) -> list[Any] | None:
    for index, info in enumerate(models):
        if info.id == entry.model:
            patched = _with_variant(info, entry) if entry.when else _with_prices(info, entry)
            return [*models[:index], patched, *models[index + 1 :]]
    return None


def _with_prices(info: Any, entry: Correction) -> Any:
    """`info` with `entry`'s prices set in every price period the entry covers."""
    from genai_prices import types

    conditionals = [] if isinstance(info.prices, types.ModelPrice) else info.prices
    if any(isinstance(item.constraint, types.TimeOfDateConstraint) for item in conditionals):
        raise CorrectionsError(f"correction {entry.id!r}: time-of-day prices cannot be patched")
    starts = {
        item.constraint.start_date
        for item in conditionals
        if isinstance(item.constraint, types.StartDateConstraint)
    }
    starts |= {day for day in (entry.valid_from, entry.valid_to) if day is not None}
    new_prices = price_fields(entry.prices)
    periods = []
    for start in [None, *sorted(starts)]:
        raw = info.get_prices(start_timestamp(start))
        if entry.active_on(start):
            raw = types.ModelPrice(**(raw.__dict__ | new_prices))
        constraint = types.StartDateConstraint(start_date=start) if start else None
        periods.append(types.ConditionalPrice(constraint=constraint, prices=raw))
    patched = copy(info)
    patched.prices = periods
    return patched


def _with_variant(info: Any, entry: Correction) -> Any:
    from genai_prices import types

    assert entry.when is not None
    constraint = (
        types.StartDateConstraint(start_date=entry.valid_from) if entry.valid_from else None
    )
    variant = types.PriceVariant(
        when=dict(entry.when),
        prices=types.ModelPrice(**price_fields(entry.prices)),
        constraint=constraint,
    )
    patched = copy(info)
    # Variants resolve first to last per price key: the correction goes first to win.
    patched.price_variants = [variant, *(info.price_variants or ())]
    return patched


def _new_model(entry: Correction) -> Any:
    from genai_prices.types import _providers_from_raw

    raw_model = {
        "id": entry.model,
        "match": entry.match,
        "prices": _raw_prices(entry.prices),
        "price_comments": f"LLMLab correction {entry.id}",
    }
    try:
        [provider] = _providers_from_raw(
            [
                {
                    "id": entry.provider,
                    "name": entry.provider,
                    "api_pattern": "",
                    "models": [raw_model],
                }
            ]
        )
    except ValidationError as exc:
        raise CorrectionsError(f"correction {entry.id!r}: {exc}") from exc
    return provider.models[0]


def price_fields(prices: dict[str, PriceValue]) -> dict[str, Any]:
    """The overlay's price values as genai-prices values (Decimal or TieredPrices)."""
    from genai_prices.types import _model_price_mapping_schema

    try:
        return dict(_model_price_mapping_schema.validate_python(_raw_prices(prices)))
    except ValidationError as exc:
        raise CorrectionsError(f"invalid price values {prices!r}: {exc}") from exc


def _raw_prices(prices: dict[str, PriceValue]) -> dict[str, Any]:
    return {
        key: (str(value) if isinstance(value, Decimal) else value) for key, value in prices.items()
    }


def start_timestamp(start: date | None) -> datetime:
    """Midnight UTC of `start` (the first moment of a price period; None: the first period)."""
    return datetime.combine(start or date(1970, 1, 1), time(), UTC)


def scaled(raw: Any, factor: Decimal) -> Any:
    """A genai-prices `ModelPrice` with every price multiplied by `factor` (tiers included)."""
    from genai_prices.types import ModelPrice, Tier, TieredPrices

    values: dict[str, Any] = {}
    for key, value in raw.__dict__.items():
        if isinstance(value, TieredPrices):
            value = TieredPrices(
                base=value.base * factor,
                tiers=[Tier(start=tier.start, price=tier.price * factor) for tier in value.tiers],
            )
        elif isinstance(value, Decimal):
            value = value * factor
        values[key] = value
    return ModelPrice(**values)


def tier_rule(overlay: Overlay, provider: str, tier: str, day: date) -> TierRule | None:
    """The tier rule in force for `provider`'s `tier` on `day`, or None."""
    rules = [
        rule
        for rule in overlay.tier_rules
        if rule.provider == provider
        and rule.service_tier == tier
        and (rule.valid_from is None or rule.valid_from <= day)
    ]
    return max(rules, key=lambda rule: rule.valid_from or date.min, default=None)


@dataclass(frozen=True, slots=True)
class Difference:
    """One price field where the overlay and a dataset disagree (`dataset` None: it has none)."""

    correction_id: str
    provider: str
    model: str
    when: str | None
    field: str
    dataset: str | None
    overlay: str | None
    sources: tuple[Source, ...]


def differences(
    providers: list[Any], overlay: Overlay, *, today: date | None = None
) -> list[Difference]:
    """Every field where `overlay` differs from the uncorrected dataset `providers`.

    A correction with no difference left is dead: the dataset caught up and it can go.
    """
    from genai_prices.data_snapshot import DataSnapshot

    snapshot = DataSnapshot(providers=providers, from_auto_update=False)
    today = today or datetime.now(UTC).date()
    found = []
    for entry in overlay.corrections:
        day = _checked_day(entry, today)
        try:
            _, info = snapshot.find_provider_model(entry.model, None, entry.provider, None)
        except LookupError:
            info = None
        when = json.dumps(entry.when, sort_keys=True) if entry.when else None
        if entry.match is not None and (info is None or info.id != entry.model):
            resolved = info.id if info is not None else None
            found.append(_difference(entry, when, "model", resolved, entry.model))
        for key, value in price_fields(entry.prices).items():
            current = _dataset_value(info, entry, key, day)
            if current != value:
                found.append(_difference(entry, when, key, _show(current), _show(value)))
    return found


def _checked_day(entry: Correction, today: date) -> date:
    """The day a correction is compared on: today, or the last/first day it holds."""
    if entry.valid_to is not None and entry.valid_to <= today:
        return date.fromordinal(entry.valid_to.toordinal() - 1)
    if entry.valid_from is not None and entry.valid_from > today:
        return entry.valid_from
    return today


def _dataset_value(info: Any, entry: Correction, key: str, day: date) -> Any:
    if info is None:
        return None
    at = start_timestamp(day)
    if entry.when is None:
        return getattr(info.get_prices(at), key, None)
    for variant in info.price_variants or ():
        if variant.constraint is not None and not variant.constraint.active(at):
            continue
        if all(entry.when.get(name) == value for name, value in variant.when.items()):
            value = getattr(variant.prices, key, None)
            if value is not None:
                return value
    return None


def _difference(
    entry: Correction, when: str | None, field: str, dataset: Any, overlay: Any
) -> Difference:
    return Difference(
        correction_id=entry.id,
        provider=entry.provider,
        model=entry.model,
        when=when,
        field=field,
        dataset=dataset,
        overlay=overlay,
        sources=tuple(entry.sources),
    )


def _show(value: Any) -> str | None:
    from genai_prices.types import TieredPrices

    if value is None:
        return None
    if isinstance(value, TieredPrices):
        tiers = ", ".join(f"{tier.price} above {tier.start:,}" for tier in value.tiers)
        return f"{value.base} ({tiers})"
    return str(value)
