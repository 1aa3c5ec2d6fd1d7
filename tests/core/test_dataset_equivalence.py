"""The memoised pricer must bill exactly what genai-prices' own engine bills on the same prices.

The reference is genai-prices' `ModelPrice.calc_price` on the dataset with LLMLab's overlay
applied (the prices LLMLab bills by), for every service tier, with the overlay's tier rules
spelled out here: a tier with no dataset variant is the standard price times the rule's factor.
"""

from datetime import UTC, datetime

import pytest
from genai_prices import Usage as DatasetUsage
from genai_prices import calc_price
from genai_prices.types import ModelPrice
from hypothesis import given, settings
from hypothesis import strategies as st

from llmlab_core import Usage, price_usage
from llmlab_core.pricing import corrections
from llmlab_core.pricing.dataset import (
    TIER_CONTEXTS,
    resolve,
    snapshot,
    to_dataset_usage,
    utc_date,
)

BEFORE_O3_CUT = datetime(2025, 5, 1, tzinfo=UTC)
AFTER_O3_CUT = datetime(2025, 7, 1, tzinfo=UTC)
WITH_TIER_VARIANTS = datetime(2026, 11, 1, tzinfo=UTC)

CASES = [
    ("openai", "gpt-4o", AFTER_O3_CUT),
    ("openai", "gpt-4o-mini", AFTER_O3_CUT),
    ("openai", "o3", BEFORE_O3_CUT),
    ("openai", "o3", AFTER_O3_CUT),
    ("openai", "o3", WITH_TIER_VARIANTS),
    ("openai", "gpt-5.4", WITH_TIER_VARIANTS),
    ("openai", "ft:gpt-4.1-2025-04-14:acme:support:abc123", AFTER_O3_CUT),
    ("anthropic", "claude-sonnet-4-20250514", AFTER_O3_CUT),
    ("anthropic", "claude-sonnet-4-20250514", WITH_TIER_VARIANTS),
    ("anthropic", "claude-sonnet-4-5", WITH_TIER_VARIANTS),
    ("anthropic", "claude-opus-4", AFTER_O3_CUT),
    ("google", "gemini-2.5-pro", AFTER_O3_CUT),
    ("google", "gemini-2.5-flash", WITH_TIER_VARIANTS),
    ("google", "claude-4-sonnet", AFTER_O3_CUT),
]
TIERS = ["standard", "batch", "flex", "priority"]


@st.composite
def usages(draw) -> Usage:
    # Mix small calls with ones around the 200k/272k thresholds and far above them.
    input_tokens = draw(
        st.one_of(
            st.integers(0, 5_000),
            st.integers(199_990, 200_010),
            st.integers(271_990, 272_010),
            st.integers(0, 3_000_000),
        )
    )
    cache_read = draw(st.integers(0, input_tokens))
    cache_write = draw(st.integers(0, input_tokens - cache_read))
    cache_write_1h = draw(st.integers(0, cache_write))
    output = draw(st.integers(0, 200_000))
    reasoning = draw(st.integers(0, output))
    return Usage(
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=cache_write_1h,
        output_tokens=output,
        reasoning_tokens=reasoning,
    )


def _reference_prices(provider: str, model: str, at: datetime, tier: str) -> ModelPrice | None:
    """The genai-prices `ModelPrice` LLMLab bills `tier` calls at, or None (no price)."""
    _, info = snapshot().find_provider_model(model, None, provider, None)
    if tier == "standard":
        raw = info.get_prices(at)
    else:
        context = TIER_CONTEXTS[tier]
        has_variant = any(
            (variant.constraint is None or variant.constraint.active(at))
            and all(context.get(key) == value for key, value in variant.when.items())
            for variant in info.price_variants or ()
        )
        if has_variant:
            raw = info.get_prices(at, context)
        else:
            rule = corrections.tier_rule(corrections.load_overlay(), provider, tier, utc_date(at))
            if rule is None:
                return None
            raw = corrections.scaled(info.get_prices(at), rule.factor)
    return raw


def _reference(provider: str, model: str, usage: Usage, at: datetime, tier: str = "standard"):
    raw = _reference_prices(provider, model, at, tier)
    if raw is None:
        return None
    return raw.calc_price(DatasetUsage(**to_dataset_usage(usage)))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(case=st.sampled_from(CASES), tier=st.sampled_from(TIERS), usage=usages())
def test_memoised_pricer_equals_the_dataset_engine(case, tier, usage):
    provider, model, at = case
    expected = _reference(provider, model, usage, at, tier)

    result = price_usage(model, usage, provider=provider, at=at, service_tier=tier)

    if expected is None:
        assert result.unpriced is True
        return
    assert result.cost_usd == expected["total_price"]
    breakdown = result.breakdown
    assert (
        breakdown["input"] + breakdown["cache_read"] + breakdown["cache_write"]
        == (expected["input_price"])
    )
    assert breakdown["output"] == expected["output_price"]


@settings(max_examples=100, derandomize=True, deadline=None)
@given(case=st.sampled_from(CASES[:7]), usage=usages())
def test_untouched_models_bill_what_genai_prices_calc_price_bills(case, usage):
    # gpt-* and o3 carry no correction: LLMLab must equal the public calc_price exactly
    # (1-hour writes aside: OpenAI models have no cache-write price).
    provider, model, at = case
    if model.startswith("ft:"):
        return
    expected = calc_price(
        DatasetUsage(**to_dataset_usage(usage)),
        model,
        provider_id=provider,
        genai_request_timestamp=at,
    )

    assert price_usage(model, usage, provider=provider, at=at).cost_usd == expected.total_price


FIXED_USAGES = [
    Usage(input_tokens=0),
    Usage(input_tokens=1_234, cache_read_tokens=411, cache_write_tokens=246, output_tokens=567),
    Usage(
        input_tokens=5_000,
        cache_write_tokens=3_000,
        cache_write_1h_tokens=1_000,
        output_tokens=10,
    ),
    Usage(input_tokens=250_000, cache_read_tokens=83_333, output_tokens=3_000),
    Usage(
        input_tokens=300_001,
        cache_write_tokens=60_000,
        cache_write_1h_tokens=60_000,
        output_tokens=1,
    ),
    Usage(input_tokens=1_000_000, cache_read_tokens=900_000, output_tokens=1_000_000),
]
DATES = [datetime(2024, 1, 1, tzinfo=UTC), AFTER_O3_CUT, WITH_TIER_VARIANTS]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
def test_every_builtin_model_period_and_tier_matches_the_dataset_engine(provider):
    snapshot_provider = next(p for p in snapshot().providers if p.id == provider)
    checked = 0
    for info in snapshot_provider.models:
        resolved = resolve(provider, info.id)
        if resolved is None or resolved.canonical_model != info.id:
            continue  # the id is shadowed by an earlier model's match rule
        for at in DATES:
            for tier in TIERS:
                period = resolved.period_at(at, tier)
                raw = _reference_prices(provider, info.id, at, tier)
                assert (period is None) == (raw is None), (info.id, at, tier)
                if raw is None:
                    continue
                for usage in FIXED_USAGES:
                    expected = raw.calc_price(DatasetUsage(**to_dataset_usage(usage)))
                    assert sum(period.breakdown(usage).values()) == expected["total_price"], (
                        info.id,
                        at,
                        tier,
                        usage,
                    )
                    checked += 1
    assert checked > 100 * len(DATES)
