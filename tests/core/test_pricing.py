from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from llmlab_core import (
    PriceOverride,
    UnknownModelError,
    Usage,
    model_prices,
    price_usage,
)

JULY_2025 = datetime(2025, 7, 1, tzinfo=UTC)


def test_cached_tokens_are_billed_at_cache_price():
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=500_000)

    result = price_usage("gpt-4o", usage, at=JULY_2025)

    assert result.cost_usd == Decimal("1.875")
    assert result.breakdown["input"] == Decimal("1.25")
    assert result.breakdown["cache_read"] == Decimal("0.625")
    assert result.provider == "openai"
    assert result.canonical_model == "gpt-4o"
    assert result.unpriced is False


def test_anthropic_cache_writes_and_reads_are_priced_separately():
    usage = Usage(
        input_tokens=5_100, cache_write_tokens=2_000, cache_read_tokens=3_000, output_tokens=500
    )

    result = price_usage("claude-sonnet-4-20250514", usage, at=JULY_2025)

    # 100 x $3 + 2,000 x $3.75 + 3,000 x $0.30 + 500 x $15, per million
    assert result.cost_usd == Decimal("0.0162")
    assert result.breakdown == {
        "input": Decimal("0.0003"),
        "cache_write": Decimal("0.0075"),
        "cache_read": Decimal("0.0009"),
        "output": Decimal("0.0075"),
    }
    assert result.provider == "anthropic"


def test_long_context_tier_reprices_the_whole_gemini_request():
    result = price_usage(
        "gemini-2.5-pro", Usage(input_tokens=300_000, output_tokens=1_000), at=JULY_2025
    )

    # above 200k input: $2.50 in / $15 out for every token
    assert result.cost_usd == Decimal("0.765")


def test_gemini_request_at_the_threshold_stays_in_the_base_tier():
    result = price_usage("gemini-2.5-pro", Usage(input_tokens=200_000), at=JULY_2025)

    assert result.cost_usd == Decimal("0.25")


def test_price_in_force_at_the_call_time_is_used():
    usage = Usage(input_tokens=1_000, output_tokens=1_000)

    before_cut = price_usage("o3", usage, at=datetime(2025, 5, 1, tzinfo=UTC))
    after_cut = price_usage("o3", usage, at=datetime(2025, 7, 1, tzinfo=UTC))

    assert before_cut.cost_usd == Decimal("0.05")
    assert after_cut.cost_usd == Decimal("0.01")


def test_price_period_boundary_is_the_utc_date():
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    # 2025-06-10 00:30 in UTC+02:00 is still 2025-06-09 in UTC: the old price applies.
    at = datetime(2025, 6, 10, 0, 30, tzinfo=timezone(timedelta(hours=2)))

    assert price_usage("o3", usage, at=at).cost_usd == Decimal("0.05")
    assert price_usage("o3", usage, at=datetime(2025, 6, 10, tzinfo=UTC)).cost_usd == Decimal(
        "0.01"
    )


def test_reasoning_tokens_are_billed_as_output():
    with_reasoning = Usage(input_tokens=10, output_tokens=100, reasoning_tokens=90)
    without = Usage(input_tokens=10, output_tokens=100)

    assert (
        price_usage("o3", with_reasoning, at=JULY_2025).cost_usd
        == price_usage("o3", without, at=JULY_2025).cost_usd
    )


@pytest.mark.parametrize(
    ("model", "canonical"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4-0"),
        ("GPT-4o-mini", "gpt-4o-mini"),
    ],
)
def test_dated_and_aliased_names_resolve(model, canonical):
    result = price_usage(model, Usage(input_tokens=1), at=JULY_2025)

    assert result.canonical_model == canonical
    assert result.model == model


def test_unknown_model_is_unpriced_not_free():
    result = price_usage("my-private-llama", Usage(input_tokens=10, output_tokens=10))

    assert result.unpriced is True
    assert result.cost_usd is None
    assert result.provider is None
    assert result.price_source is None


def test_unknown_model_of_a_known_provider_keeps_the_provider():
    result = price_usage("gpt-99-ultra", Usage(input_tokens=10))

    assert result.unpriced is True
    assert result.provider == "openai"


def test_unknown_provider_is_unpriced():
    result = price_usage("gpt-4o", Usage(input_tokens=10), provider="no-such-cloud")

    assert result.unpriced is True
    assert result.cost_usd is None


def test_provider_the_dataset_knows_but_not_registered_is_still_priced():
    result = price_usage("gpt-4o", Usage(input_tokens=1_000_000), provider="azure", at=JULY_2025)

    assert result.provider == "azure"
    assert result.cost_usd == Decimal("2.5")


def test_price_source_names_the_dataset_version():
    result = price_usage("gpt-4o", Usage(input_tokens=1))

    assert result.price_source == "genai-prices 0.2.3"


def test_naive_datetimes_are_taken_as_utc():
    usage = Usage(input_tokens=1_000, output_tokens=1_000)

    assert price_usage("o3", usage, at=datetime(2025, 5, 1)).cost_usd == Decimal("0.05")


def _override(**changes) -> PriceOverride:
    fields = {
        "id": "ov-1",
        "provider": "openai",
        "model": "gpt-4o",
        "input": Decimal("1"),
        "output": Decimal("2"),
        "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
    }
    return PriceOverride(**(fields | changes))


def test_override_wins_over_the_dataset():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)

    result = price_usage("gpt-4o", usage, at=JULY_2025, overrides=[_override()])

    assert result.cost_usd == Decimal("3")
    assert result.price_source == "override:ov-1"
    assert result.canonical_model == "gpt-4o"


def test_override_matches_a_dated_name_through_its_canonical_model():
    usage = Usage(input_tokens=1_000_000)

    result = price_usage("gpt-4o-2024-08-06", usage, at=JULY_2025, overrides=[_override()])

    assert result.price_source == "override:ov-1"


def test_override_is_ignored_before_it_takes_effect():
    usage = Usage(input_tokens=1_000_000)
    at = datetime(2024, 12, 31, tzinfo=UTC)

    result = price_usage("gpt-4o", usage, at=at, overrides=[_override()])

    assert result.price_source.startswith("genai-prices")


def test_latest_override_in_force_wins():
    older = _override(id="old", valid_from=datetime(2025, 1, 1, tzinfo=UTC))
    newer = _override(id="new", input=Decimal("0.5"), valid_from=datetime(2025, 6, 1, tzinfo=UTC))

    result = price_usage(
        "gpt-4o", Usage(input_tokens=1_000_000), at=JULY_2025, overrides=[newer, older]
    )

    assert result.price_source == "override:new"
    assert result.cost_usd == Decimal("0.5")


def test_override_for_another_provider_does_not_apply():
    result = price_usage(
        "gpt-4o",
        Usage(input_tokens=1_000_000),
        at=JULY_2025,
        overrides=[_override(provider="azure")],
    )

    assert result.price_source.startswith("genai-prices")


def test_override_prices_a_model_the_dataset_does_not_know():
    override = _override(id="self", provider="self-hosted", model="my-llama")

    result = price_usage(
        "my-llama", Usage(input_tokens=2_000_000), at=JULY_2025, overrides=[override]
    )

    assert result.unpriced is False
    assert result.cost_usd == Decimal("2")
    assert result.provider == "self-hosted"


def test_override_without_cache_prices_bills_cache_reads_as_input():
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)

    result = price_usage("gpt-4o", usage, at=JULY_2025, overrides=[_override()])

    assert result.cost_usd == Decimal("1")


def test_model_prices_are_per_million_tokens():
    prices = model_prices("gpt-4o", at=JULY_2025)

    assert (prices.input, prices.cache_read, prices.cache_write, prices.output) == (
        Decimal("2.5"),
        Decimal("1.25"),
        None,
        Decimal("10"),
    )
    assert prices.provider == "openai"
    assert prices.tiers == ()


def test_model_prices_list_long_context_tiers():
    prices = model_prices("gemini-2.5-pro", at=JULY_2025)

    assert prices.input == Decimal("1.25")
    [tier] = prices.tiers
    assert tier.threshold == 200_000
    assert (tier.input, tier.output) == (Decimal("2.5"), Decimal("15"))


def test_model_prices_report_the_period_start():
    assert model_prices("o3", at=JULY_2025).period_start.isoformat() == "2025-06-10"
    assert model_prices("o3", at=datetime(2025, 5, 1, tzinfo=UTC)).period_start is None


def test_model_prices_raise_for_an_unknown_model():
    with pytest.raises(UnknownModelError, match="unknown model 'my-private-llama'"):
        model_prices("my-private-llama")


def test_override_prices_a_self_hosted_model_that_looks_like_openai():
    override = _override(id="oss", provider="self-hosted", model="gpt-oss-local")

    result = price_usage(
        "gpt-oss-local", Usage(input_tokens=1_000_000), at=JULY_2025, overrides=[override]
    )

    assert result.price_source == "override:oss"
    assert result.provider == "self-hosted"


def test_override_for_another_provider_does_not_apply_when_the_provider_is_given():
    override = _override(id="oss", provider="self-hosted", model="gpt-oss-local")

    result = price_usage(
        "gpt-oss-local",
        Usage(input_tokens=1_000_000),
        provider="openai",
        at=JULY_2025,
        overrides=[override],
    )

    assert result.unpriced is True


def test_provider_names_are_case_insensitive():
    result = price_usage("gpt-4o", Usage(input_tokens=1_000_000), provider="OpenAI", at=JULY_2025)

    assert result.provider == "openai"
    assert result.cost_usd == Decimal("2.5")
