from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from llmlab_core import (
    PriceOverride,
    UnknownModelError,
    Usage,
    canonical_model,
    model_prices,
    price_usage,
    resolve_model,
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


# --- one identity per model: provider prefixes, fine-tunes, variants -------------------------

SEPTEMBER_2025 = datetime(2025, 9, 1, tzinfo=UTC)
NOVEMBER_2026 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "usage", "provider", "canonical", "cost"),
    [
        ("openai/gpt-4o", Usage(input_tokens=1_000_000, output_tokens=1_000_000), "openai",
         "gpt-4o", "12.5"),
        ("anthropic/claude-sonnet-4-5", Usage(input_tokens=1_000, output_tokens=1_000),
         "anthropic", "claude-sonnet-4-5", "0.018"),
        ("gemini/gemini-2.5-pro", Usage(input_tokens=300_000, output_tokens=1_000), "google",
         "gemini-2.5-pro", "0.765"),
        ("google/gemini-2.5-flash", Usage(input_tokens=1_000_000), "google",
         "gemini-2.5-flash", "0.3"),
        ("models/gemini-2.5-flash", Usage(input_tokens=1_000_000), "google",
         "gemini-2.5-flash", "0.3"),
    ],
)  # fmt: skip
def test_provider_prefixed_names_price_as_the_bare_name(model, usage, provider, canonical, cost):
    inferred = price_usage(model, usage, at=JULY_2025)
    given = price_usage(model, usage, provider=provider, at=JULY_2025)

    for result in (inferred, given):
        assert result.cost_usd == Decimal(cost)
        assert result.provider == provider
        assert result.canonical_model == canonical
        assert result.model == model


def test_a_gateways_own_prefixed_id_is_asked_before_the_prefix_is_stripped():
    # Groq lists `openai/gpt-oss-120b` as its own id, at its own price.
    on_groq = price_usage("openai/gpt-oss-120b", Usage(input_tokens=1_000_000), provider="groq")
    at_openai = price_usage("openai/gpt-oss-120b", Usage(input_tokens=1_000_000))

    assert on_groq.cost_usd == Decimal("0.15")
    assert at_openai.cost_usd == Decimal("0.039")


def test_a_prefix_is_stripped_before_the_loose_rules_decide():
    # `contains: gemini-1.5-flash` must not take the 8B model, prefixed or not.
    usage = Usage(input_tokens=100_000, output_tokens=100_000)

    bare = price_usage("gemini-1.5-flash-8b", usage, at=JULY_2025)
    prefixed = price_usage("google/gemini-1.5-flash-8b-001", usage, at=JULY_2025)
    flash = price_usage("gemini-1.5-flash", usage, at=JULY_2025)

    assert bare.cost_usd == prefixed.cost_usd == Decimal("0.01875")
    assert bare.canonical_model == prefixed.canonical_model == "gemini-1.5-flash-8b"
    assert flash.cost_usd == Decimal("0.0375")


def test_gemini_flash_8b_long_context_tier_starts_above_128k():
    result = price_usage("gemini-1.5-flash-8b", Usage(input_tokens=200_000), at=JULY_2025)

    assert result.cost_usd == Decimal("0.015")  # 200k x $0.075


@pytest.mark.parametrize(
    ("model", "usage", "canonical", "cost"),
    [
        # 600k uncached x $3 + 400k cached x $0.75 + 100k out x $12
        ("ft:gpt-4.1-2025-04-14:acme:support:abc123",
         Usage(input_tokens=1_000_000, cache_read_tokens=400_000, output_tokens=100_000),
         "ft:gpt-4.1", "3.3"),
        ("ft:gpt-4.1-mini-2025-04-14:acme::B7x",
         Usage(input_tokens=1_000_000, cache_read_tokens=500_000), "ft:gpt-4.1-mini", "0.5"),
        ("ft:gpt-4.1-nano-2025-04-14:acme:tags:9",
         Usage(input_tokens=1_000_000, cache_read_tokens=500_000, output_tokens=1_000_000),
         "ft:gpt-4.1-nano", "0.925"),
        ("ft:o4-mini-2025-04-16:acme:grader:1",
         Usage(input_tokens=1_000_000, cache_read_tokens=500_000), "ft:o4-mini", "2.5"),
        ("ft:gpt-4o-2024-08-06:acme::xyz",
         Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000), "ft:gpt-4o", "1.875"),
        ("ft:gpt-4o-mini-2024-07-18:acme:x:1",
         Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000), "ft:gpt-4o-mini", "0.15"),
    ],
)  # fmt: skip
def test_fine_tuned_models_bill_fine_tuned_rates_with_cached_input(model, usage, canonical, cost):
    result = price_usage(model, usage, at=JULY_2025)

    assert result.provider == "openai"
    assert result.canonical_model == canonical
    assert result.cost_usd == Decimal(cost)
    assert result.price_source.startswith("overlay:")


def test_resolve_model_gives_one_identity_to_a_models_variants():
    names = ["gpt-4o", "gpt-4o-2024-08-06", "GPT-4o", "openai/gpt-4o", "openai/gpt-4o-2024-11-20"]

    resolved = [resolve_model(name, at=JULY_2025) for name in names]

    assert {(r.provider, r.canonical_model) for r in resolved} == {("openai", "gpt-4o")}
    assert resolved[3].lookup_name == "gpt-4o"
    assert resolved[0].source == "dataset"
    assert resolved[0].prices.input == Decimal("2.5")


def test_resolve_model_names_the_overlay_as_the_source_of_a_correction():
    resolved = resolve_model("ft:gpt-4.1-2025-04-14:acme:support:abc123")

    assert resolved.canonical_model == "ft:gpt-4.1"
    assert resolved.source == "overlay"
    assert resolved.prices.price_source == "overlay:ft-gpt-4.1"


def test_a_name_that_resolves_to_nothing_is_unpriced_never_approximated():
    assert resolve_model("gemini-9-ultra-preview") is None
    assert resolve_model("openai/gpt-99") is None
    result = price_usage("openai/gpt-99", Usage(input_tokens=10))
    assert result.unpriced is True
    assert result.provider == "openai"


def test_canonical_model_strips_the_provider_prefix():
    assert canonical_model("anthropic/claude-sonnet-4-20250514") == "claude-sonnet-4-0"
    assert canonical_model("models/gemini-2.5-flash") == "gemini-2.5-flash"


# --- a long-context tier the dataset lacks ------------------------------------------------------


def test_claude_sonnet_4_bills_the_long_context_tier_above_200k():
    usage = Usage(input_tokens=300_000, output_tokens=1_000)

    result = price_usage("claude-sonnet-4-20250514", usage, at=SEPTEMBER_2025)

    # every token at $6 in / $22.50 out
    assert result.cost_usd == Decimal("1.8225")
    assert result.price_source == "overlay:claude-sonnet-4-long-context"


def test_claude_sonnet_4_long_context_cache_prices_keep_their_multipliers():
    usage = Usage(
        input_tokens=400_000,
        cache_read_tokens=200_000,
        cache_write_tokens=100_000,
        cache_write_1h_tokens=50_000,
    )

    result = price_usage("claude-sonnet-4", usage, at=SEPTEMBER_2025)

    # 100k x $6 + 200k x $0.60 + 50k x $7.50 + 50k x $12, per million
    assert result.breakdown["input"] == Decimal("0.6")
    assert result.breakdown["cache_read"] == Decimal("0.12")
    assert result.breakdown["cache_write"] == Decimal("0.975")


def test_claude_sonnet_4_keeps_its_base_price_before_the_1m_context_existed():
    usage = Usage(input_tokens=300_000, output_tokens=1_000)

    result = price_usage("claude-sonnet-4-20250514", usage, at=JULY_2025)

    assert result.cost_usd == Decimal("0.915")
    assert result.price_source == "genai-prices 0.2.3"


# --- 1-hour cache writes ------------------------------------------------------------------------


def test_one_hour_cache_writes_bill_at_the_one_hour_price():
    usage = Usage(
        input_tokens=10_000, cache_write_tokens=8_000, cache_write_1h_tokens=3_000, output_tokens=0
    )

    result = price_usage("claude-sonnet-4-5", usage, at=JULY_2025)

    # 2,000 x $3 + 5,000 x $3.75 (5-minute) + 3,000 x $6 (1-hour), per million
    assert result.breakdown["input"] == Decimal("0.006")
    assert result.breakdown["cache_write"] == Decimal("0.03675")
    assert result.cost_usd == Decimal("0.04275")


def test_claude_one_hour_cache_writes_bill_at_twice_input_without_a_one_hour_price():
    # Vertex AI's Claude entry in the dataset has a 5-minute write price only.
    usage = Usage(
        input_tokens=1_000_000, cache_write_tokens=1_000_000, cache_write_1h_tokens=1_000_000
    )

    result = price_usage("claude-4-sonnet", usage, provider="google", at=JULY_2025)

    assert result.cost_usd == Decimal("6")
    assert result.price_source == "overlay:claude-one-hour-writes"


def test_one_hour_writes_of_a_model_without_a_one_hour_cache_bill_at_the_write_price():
    # Not a Claude model: no 1-hour multiplier is known, genai-prices' rule applies.
    usage = Usage(
        input_tokens=1_000_000, cache_write_tokens=1_000_000, cache_write_1h_tokens=1_000_000
    )

    assert price_usage("gpt-5.6-cyber", usage, at=JULY_2025).cost_usd == Decimal("15.625")


def test_one_hour_writes_of_a_model_without_cache_write_prices_bill_as_input():
    usage = Usage(
        input_tokens=1_000_000, cache_write_tokens=1_000_000, cache_write_1h_tokens=1_000_000
    )

    assert price_usage("gpt-4o", usage, at=JULY_2025).cost_usd == Decimal("2.5")


def test_model_prices_show_the_one_hour_price():
    prices = model_prices("claude-sonnet-4-5", at=JULY_2025)

    assert (prices.cache_write, prices.cache_write_1h) == (Decimal("3.75"), Decimal("6"))


# --- service tiers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "tier", "at", "cost", "source"),
    [
        # OpenAI batch before the dataset has batch variants: the overlay's 50% rule
        ("gpt-4o", "batch", JULY_2025, "6.25", "overlay:openai-batch-half"),
        ("gpt-4o", "batch", NOVEMBER_2026, "6.25", "genai-prices 0.2.3"),
        ("claude-opus-4-1", "batch", JULY_2025, "45", "overlay:anthropic-batch-half"),
        ("claude-opus-4-5", "batch", NOVEMBER_2026, "15", "genai-prices 0.2.3"),
        ("gemini-2.5-flash", "batch", JULY_2025, "1.4", "overlay:google-batch-half"),
        ("o3", "flex", JULY_2025, "5", "overlay:openai-flex-half"),
        ("o3", "flex", NOVEMBER_2026, "5", "genai-prices 0.2.3"),
        ("o3", "priority", NOVEMBER_2026, "17.5", "genai-prices 0.2.3"),
        ("gpt-4o", "priority", NOVEMBER_2026, "21.25", "genai-prices 0.2.3"),
        ("o3", "standard", NOVEMBER_2026, "10", "genai-prices 0.2.3"),
    ],
)
def test_service_tiers_bill_their_own_prices(model, tier, at, cost, source):
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)

    result = price_usage(model, usage, at=at, service_tier=tier)

    assert result.cost_usd == Decimal(cost)
    assert result.price_source == source


def test_batch_halves_cache_prices_too():
    usage = Usage(input_tokens=100_000, cache_read_tokens=100_000)

    result = price_usage("claude-sonnet-4-5", usage, at=JULY_2025, service_tier="batch")

    assert result.cost_usd == Decimal("0.015")  # 100k x $0.15, half of $0.30


def test_a_tier_with_no_known_price_is_unpriced():
    usage = Usage(input_tokens=1_000)

    before_priority_prices = price_usage("o3", usage, at=JULY_2025, service_tier="priority")
    no_flex_rule = price_usage("claude-sonnet-4-5", usage, at=JULY_2025, service_tier="flex")

    for result in (before_priority_prices, no_flex_rule):
        assert result.unpriced is True
        assert result.cost_usd is None
    assert before_priority_prices.canonical_model == "o3"
    with pytest.raises(UnknownModelError, match="no priority price known for model 'o3'"):
        model_prices("o3", at=JULY_2025, service_tier="priority")


def test_model_prices_report_the_service_tier():
    prices = model_prices("gpt-4o", at=JULY_2025, service_tier="batch")

    assert (prices.input, prices.cache_read, prices.output) == (
        Decimal("1.25"),
        Decimal("0.625"),
        Decimal("5"),
    )
    assert prices.service_tier == "batch"


def test_an_override_prices_every_service_tier():
    result = price_usage(
        "gpt-4o",
        Usage(input_tokens=1_000_000),
        at=JULY_2025,
        overrides=[_override()],
        service_tier="batch",
    )

    assert result.price_source == "override:ov-1"
    assert result.cost_usd == Decimal("1")


def test_an_override_matches_a_prefixed_name():
    result = price_usage(
        "openai/gpt-4o", Usage(input_tokens=1_000_000), at=JULY_2025, overrides=[_override()]
    )

    assert result.price_source == "override:ov-1"
