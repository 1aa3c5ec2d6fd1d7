"""The memoised pricer must bill exactly what genai-prices' own calc_price bills."""

from datetime import UTC, datetime

import pytest
from genai_prices import Usage as DatasetUsage
from genai_prices import calc_price
from genai_prices.data_snapshot import get_snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from llmlab_core import Usage, price_usage
from llmlab_core.dataset import resolve, to_dataset_usage

BEFORE_O3_CUT = datetime(2025, 5, 1, tzinfo=UTC)
AFTER_O3_CUT = datetime(2025, 7, 1, tzinfo=UTC)

CASES = [
    ("openai", "gpt-4o", AFTER_O3_CUT),
    ("openai", "gpt-4o-mini", AFTER_O3_CUT),
    ("openai", "o3", BEFORE_O3_CUT),
    ("openai", "o3", AFTER_O3_CUT),
    ("anthropic", "claude-sonnet-4-20250514", AFTER_O3_CUT),
    ("anthropic", "claude-opus-4", AFTER_O3_CUT),
    ("google", "gemini-2.5-pro", AFTER_O3_CUT),
    ("google", "gemini-2.5-flash", AFTER_O3_CUT),
]


@st.composite
def usages(draw) -> Usage:
    # Mix small calls with ones around gemini-2.5-pro's 200k threshold and far above it.
    input_tokens = draw(
        st.one_of(
            st.integers(0, 5_000),
            st.integers(199_990, 200_010),
            st.integers(0, 3_000_000),
        )
    )
    cache_read = draw(st.integers(0, input_tokens))
    cache_write = draw(st.integers(0, input_tokens - cache_read))
    output = draw(st.integers(0, 200_000))
    reasoning = draw(st.integers(0, output))
    return Usage(
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=output,
        reasoning_tokens=reasoning,
    )


def _dataset_price(provider: str, model: str, usage: Usage, at: datetime):
    return calc_price(
        DatasetUsage(**to_dataset_usage(usage)),
        model,
        provider_id=provider,
        genai_request_timestamp=at,
    )


@settings(max_examples=200, derandomize=True, deadline=None)
@given(case=st.sampled_from(CASES), usage=usages())
def test_memoised_pricer_equals_calc_price(case, usage):
    provider, model, at = case
    expected = _dataset_price(provider, model, usage, at)

    result = price_usage(model, usage, provider=provider, at=at)

    assert result.cost_usd == expected.total_price
    breakdown = result.breakdown
    assert breakdown["input"] + breakdown["cache_read"] + breakdown["cache_write"] == (
        expected.input_price
    )
    assert breakdown["output"] == expected.output_price


FIXED_USAGES = [
    Usage(input_tokens=0),
    Usage(input_tokens=1_234, cache_read_tokens=411, cache_write_tokens=246, output_tokens=567),
    Usage(input_tokens=250_000, cache_read_tokens=83_333, output_tokens=3_000),
    Usage(input_tokens=300_001, cache_write_tokens=60_000, output_tokens=1),
    Usage(input_tokens=1_000_000, cache_read_tokens=900_000, output_tokens=1_000_000),
]
DATES = [datetime(2024, 1, 1, tzinfo=UTC), AFTER_O3_CUT, datetime(2026, 11, 1, tzinfo=UTC)]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
def test_every_builtin_model_and_period_matches_calc_price(provider):
    snapshot_provider = next(p for p in get_snapshot().providers if p.id == provider)
    checked = 0
    for info in snapshot_provider.models:
        resolved = resolve(provider, info.id)
        if resolved is None or resolved.canonical_model != info.id:
            continue  # the id is shadowed by an earlier model's match rule
        for at in DATES:
            period = resolved.period_at(at)
            for usage in FIXED_USAGES:
                expected = _dataset_price(provider, info.id, usage, at).total_price
                assert sum(period.breakdown(usage).values()) == expected, (info.id, at, usage)
                checked += 1
    assert checked > 100 * len(DATES)
