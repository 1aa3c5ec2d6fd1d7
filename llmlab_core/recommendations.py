"""Ranked, explained ways to spend less, computed from daily rollup rows.

Every dollar figure is a 30-day projection of the window given (`days`), computed with the same
engine that bills the calls. Kinds:

- `switch_model`: move a share of calls to a cheaper model from `SUBSTITUTIONS` (data, not code);
  savings come from `whatif`.
- `prompt_caching`: large inputs that are rarely read from cache; assumes `CACHEABLE_SHARE` of the
  uncached input is a repeated prefix, and that a prefix is written once per `READS_PER_WRITE`
  reads where the provider charges for cache writes.
- `batch_api`: the batch service tier's prices (the dataset's, else the overlay's tier rule)
  for `BATCHABLE_SHARE` of calls.
- `long_context`: days whose average input sits just above a long-context threshold (up to
  `LONG_CONTEXT_MARGIN` above it), where trimming prompts under it reprices the whole request.
- `unpriced`: calls with no price. Never hidden, never given a dollar figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict

from llmlab_core.errors import UnknownModelError
from llmlab_core.pricing.engine import canonical_model, model_prices
from llmlab_core.pricing.names import display_name
from llmlab_core.pricing.rates import ModelPrices, TokenPricer, cost_of
from llmlab_core.rollups import UsageRow
from llmlab_core.whatif import whatif

RecommendationKind = Literal[
    "switch_model", "prompt_caching", "batch_api", "long_context", "unpriced"
]
Confidence = Literal["high", "medium", "low"]

DAYS_PER_MONTH = Decimal(30)
SWITCH_SHARE = Decimal("0.8")
CACHEABLE_SHARE = Decimal("0.5")
READS_PER_WRITE = 10
MIN_CACHEABLE_INPUT = 1024  # OpenAI and Anthropic do not cache prompts shorter than this
MAX_CACHE_READ_SHARE = Decimal("0.2")
BATCHABLE_SHARE = Decimal("0.25")
LONG_CONTEXT_MARGIN = Decimal("0.25")
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Substitution:
    """Calls to models matching `pattern` (canonical id, shell-style) can often go to `to_model`."""

    pattern: str
    to_model: str
    share: Decimal = SWITCH_SHARE


# Cheaper model of the same family that handles the easier bulk of most workloads. First match
# wins; a target that is not cheaper simply yields no recommendation.
SUBSTITUTIONS: tuple[Substitution, ...] = (
    Substitution("gpt-4", "gpt-4o-mini"),
    Substitution("gpt-4-32k", "gpt-4o-mini"),
    Substitution("gpt-4-turbo", "gpt-4o-mini"),
    Substitution("gpt-4o", "gpt-4o-mini"),
    Substitution("gpt-4.1", "gpt-4.1-mini"),
    Substitution("gpt-5", "gpt-5-mini"),
    Substitution("o1", "o4-mini"),
    Substitution("o3", "o4-mini"),
    Substitution("claude-3-opus*", "claude-3-5-sonnet"),
    Substitution("claude-opus-4*", "claude-sonnet-4-5"),
    Substitution("claude-3-5-sonnet*", "claude-3-5-haiku"),
    Substitution("claude-3-7-sonnet*", "claude-3-5-haiku"),
    Substitution("claude-sonnet-4*", "claude-haiku-4-5"),
    Substitution("gemini-1.5-pro*", "gemini-1.5-flash"),
    Substitution("gemini-2.5-pro*", "gemini-2.5-flash"),
    Substitution("gemini-3-pro*", "gemini-3-flash-preview"),
)


class Evidence(BaseModel):
    """What a recommendation is based on, over the analysed window."""

    model_config = ConfigDict(frozen=True)

    days: int
    calls: int
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int
    spend_usd: Decimal
    # The names the calls were recorded under (variants of the recommendation's model).
    recorded_as: tuple[str, ...] = ()


class Recommendation(BaseModel):
    """One way to save, with its 30-day dollar figure (None for `unpriced`)."""

    model_config = ConfigDict(frozen=True)

    kind: RecommendationKind
    title: str
    monthly_savings_usd: Decimal | None
    provider: str
    model: str
    evidence: Evidence
    assumption: str
    confidence: Confidence
    risk: str
    action: str
    from_model: str | None = None
    to_model: str | None = None
    share: Decimal | None = None


def recommend(
    rows: Iterable[UsageRow], *, days: int, min_monthly_savings: Decimal = Decimal("1")
) -> list[Recommendation]:
    """Recommendations for `rows` covering the last `days` days, largest savings first.

    Dollar recommendations below `min_monthly_savings` are dropped; `unpriced` ones always come
    last and are always kept.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    per_month = DAYS_PER_MONTH / days
    groups: dict[tuple[str, str], list[UsageRow]] = defaultdict(list)
    for row in rows:
        name = canonical_model(row.model, provider=row.provider) or row.model
        groups[(row.provider, name)].append(row)

    priced: list[Recommendation] = []
    unpriced: list[Recommendation] = []
    for (provider, model), group in groups.items():
        evidence = _evidence(group, days)
        if unpriced_calls := sum(row.unpriced_calls for row in group):
            unpriced.append(_unpriced(provider, model, unpriced_calls, evidence))
        if not evidence.spend_usd:
            continue
        prices = _current_prices(model, provider, group)
        candidates = [
            _switch(provider, model, group, evidence, per_month),
            _caching(provider, model, group, evidence, per_month, prices),
            _batch(provider, model, group, evidence, per_month),
            _long_context(provider, model, group, evidence, per_month, prices),
        ]
        priced.extend(
            candidate
            for candidate in candidates
            if candidate is not None and candidate.monthly_savings_usd >= min_monthly_savings
        )
    priced.sort(key=lambda rec: rec.monthly_savings_usd, reverse=True)
    unpriced.sort(key=lambda rec: rec.evidence.calls, reverse=True)
    return priced + unpriced


def substitution_for(model: str) -> Substitution | None:
    """The first `SUBSTITUTIONS` entry whose pattern matches canonical id `model`."""
    lowered = model.lower()
    return next((sub for sub in SUBSTITUTIONS if fnmatchcase(lowered, sub.pattern)), None)


def shown_name(model: str, evidence: Evidence) -> str:
    """`model` as the user's calls recorded it (see `display_name`)."""
    return display_name(model, evidence.recorded_as)


def _evidence(group: list[UsageRow], days: int) -> Evidence:
    return Evidence(
        recorded_as=tuple(sorted({row.model for row in group})),
        days=days,
        calls=sum(row.calls for row in group),
        input_tokens=sum(row.input_tokens for row in group),
        cache_read_tokens=sum(row.cache_read_tokens for row in group),
        output_tokens=sum(row.output_tokens for row in group),
        spend_usd=sum((row.cost_usd for row in group), _ZERO),
    )


def _current_prices(model: str, provider: str, group: list[UsageRow]) -> ModelPrices | None:
    latest = max(row.day for row in group)
    try:
        return model_prices(model, provider=provider, at=datetime.combine(latest, time(12), UTC))
    except UnknownModelError:
        return None


def _unpriced(provider: str, model: str, calls: int, evidence: Evidence) -> Recommendation:
    return Recommendation(
        kind="unpriced",
        title=f"{calls:,} calls to {model} have no price",
        monthly_savings_usd=None,
        provider=provider,
        model=model,
        evidence=evidence,
        assumption="The price dataset does not know this model, so its spend is not counted.",
        confidence="high",
        risk="Totals, budgets and forecasts understate spend until these calls are priced.",
        action=f"Add a price override for {provider}/{model} (per-million input/output prices).",
    )


def _switch(
    provider: str,
    model: str,
    group: list[UsageRow],
    evidence: Evidence,
    per_month: Decimal,
) -> Recommendation | None:
    substitution = substitution_for(model)
    if substitution is None or substitution.to_model == model:
        return None
    try:
        result = whatif(
            group, from_model=model, to_model=substitution.to_model, share=substitution.share
        )
    except UnknownModelError:
        return None
    percent = int(substitution.share * 100)
    return Recommendation(
        kind="switch_model",
        title=(
            f"Switch {percent}% of {shown_name(model, evidence)} calls to {substitution.to_model}"
        ),
        monthly_savings_usd=result.savings_usd * per_month,
        provider=provider,
        model=model,
        evidence=evidence,
        assumption=(
            f"{percent}% of calls are simple enough for {substitution.to_model}; they keep "
            "their token counts and are billed at its prices, cache and long-context rules "
            "(tier chosen by each day's average input per call)."
        ),
        confidence="medium",
        risk="Answers may get worse on harder prompts: compare both models on a sample first.",
        action=(
            f"Route the easier {percent}% of {shown_name(model, evidence)} traffic to "
            f"{substitution.to_model} "
            "and keep the rest on the larger model."
        ),
        from_model=model,
        to_model=substitution.to_model,
        share=substitution.share,
    )


def _caching(
    provider: str,
    model: str,
    group: list[UsageRow],
    evidence: Evidence,
    per_month: Decimal,
    prices: ModelPrices | None,
) -> Recommendation | None:
    if prices is None or prices.input is None or prices.cache_read is None:
        return None
    if evidence.input_tokens < MIN_CACHEABLE_INPUT * evidence.calls:
        return None
    if evidence.cache_read_tokens > MAX_CACHE_READ_SHARE * evidence.input_tokens:
        return None
    uncached = sum(
        row.input_tokens - row.cache_read_tokens - row.cache_write_tokens for row in group
    )
    cacheable = CACHEABLE_SHARE * uncached
    saved = cacheable * (prices.input - prices.cache_read)
    if prices.cache_write is not None:
        saved -= cacheable / READS_PER_WRITE * (prices.cache_write - prices.input)
    savings = saved / Decimal(1_000_000) * per_month
    if savings <= 0:
        return None
    cached_percent = evidence.cache_read_tokens * 100 // max(evidence.input_tokens, 1)
    return Recommendation(
        kind="prompt_caching",
        title=f"Use prompt caching for {shown_name(model, evidence)}",
        monthly_savings_usd=savings,
        provider=provider,
        model=model,
        evidence=evidence,
        assumption=(
            f"Calls average {evidence.input_tokens // evidence.calls:,} input tokens and only "
            f"{cached_percent}% are cache reads; assumes {int(CACHEABLE_SHARE * 100)}% of the "
            "uncached input is a repeated prefix (system prompt, tools, documents)"
            + (
                f", each written to cache once per {READS_PER_WRITE} reads."
                if prices.cache_write is not None
                else "."
            )
        ),
        confidence="low",
        risk="Savings depend on how much of each prompt really repeats, and on cache lifetime.",
        action=CACHING_ADVICE.get(provider, GENERIC_CACHING_ADVICE),
    )


# Each provider's own caching mechanism: advice naming another provider's is no use.
CACHING_ADVICE = {
    "anthropic": (
        "Put the stable part of prompts (system prompt, tools, documents) first and mark its "
        "end with a cache_control breakpoint; use the 1-hour cache for prefixes reused less "
        "often than every 5 minutes."
    ),
    "openai": (
        "OpenAI caches prompt prefixes of 1,024+ tokens automatically: put the stable part "
        "(system prompt, tools, documents) first and the per-request part last, and set "
        "prompt_cache_key so similar requests reach the same cache."
    ),
    "google": (
        "Put the stable part of prompts first so Gemini's implicit caching applies, and for "
        "large context reused across many calls create an explicit context cache "
        "(client.caches.create) and pass it as cached_content."
    ),
}
GENERIC_CACHING_ADVICE = (
    "Put the stable part of prompts first and enable this provider's prompt caching."
)


def _batch(
    provider: str,
    model: str,
    group: list[UsageRow],
    evidence: Evidence,
    per_month: Decimal,
) -> Recommendation | None:
    latest = datetime.combine(max(row.day for row in group), time(12), UTC)
    try:
        batch = model_prices(model, provider=provider, at=latest, service_tier="batch")
        standard = model_prices(model, provider=provider, at=latest)
    except UnknownModelError:  # UnpricedTierError included: no batch price known
        return None
    difference = _totals_cost(group, standard) - _totals_cost(group, batch)
    savings = BATCHABLE_SHARE * difference * per_month
    if savings <= 0:
        return None
    percent = int(BATCHABLE_SHARE * 100)
    return Recommendation(
        kind="batch_api",
        title=f"Send offline {shown_name(model, evidence)} calls through the batch API",
        monthly_savings_usd=savings,
        provider=provider,
        model=model,
        evidence=evidence,
        assumption=(
            f"{percent}% of calls (evals, backfills, nightly jobs) can wait up to 24 hours; "
            f"batch prices are {provider}'s from the price dataset."
        ),
        confidence="low",
        risk="Batch results arrive within 24 hours, not in real time.",
        action=(
            f"Move non-interactive {shown_name(model, evidence)} work to the {provider} batch API."
        ),
    )


def _long_context(
    provider: str,
    model: str,
    group: list[UsageRow],
    evidence: Evidence,
    per_month: Decimal,
    prices: ModelPrices | None,
) -> Recommendation | None:
    if prices is None or not prices.tiers:
        return None
    threshold = prices.tiers[0].threshold
    ceiling = threshold * (1 + LONG_CONTEXT_MARGIN)
    near = [
        row for row in group if row.calls and threshold < row.input_tokens / row.calls <= ceiling
    ]
    if not near:
        return None
    base_only = prices.model_copy(update={"tiers": ()})
    savings = (_totals_cost(near, prices) - _totals_cost(near, base_only)) * per_month
    if savings <= 0:
        return None
    return Recommendation(
        kind="long_context",
        title=f"Keep {shown_name(model, evidence)} prompts under {threshold:,} input tokens",
        monthly_savings_usd=savings,
        provider=provider,
        model=model,
        evidence=_evidence(near, evidence.days),
        assumption=(
            f"On {len(near)} day(s) calls averaged just above {threshold:,} input tokens, where "
            "the whole request is billed at the long-context price; trimming them under the "
            "threshold bills them at the base price (daily averages: single calls may differ)."
        ),
        confidence="medium",
        risk="Trimming context (fewer retrieved chunks, shorter history) can lose information.",
        action=(
            f"Cap retrieved context or history so {shown_name(model, evidence)} prompts stay "
            f"under {threshold:,}."
        ),
    )


def _totals_cost(rows: list[UsageRow], prices: ModelPrices) -> Decimal:
    """Cost of the rows' priced calls at `prices`, tier chosen per row by its average input."""
    pricer = TokenPricer(prices)
    total = _ZERO
    for row in rows:
        if not row.priced_calls:
            continue
        scale = Decimal(row.priced_calls) / row.calls
        total += cost_of(
            pricer.breakdown_totals(
                row.input_tokens * scale,
                row.cache_read_tokens * scale,
                row.cache_write_tokens * scale,
                row.output_tokens * scale,
                tier_input_tokens=Decimal(row.input_tokens) / row.calls,
            )
        )
    return total
