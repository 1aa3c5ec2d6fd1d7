from datetime import date, timedelta
from decimal import Decimal

import pytest

from llmlab_core.recommendations import (
    SUBSTITUTIONS,
    Evidence,
    recommend,
    shown_name,
    substitution_for,
)
from llmlab_core.rollups import UsageRow
from llmlab_core.whatif import whatif

START = date(2026, 10, 28)


def seed_rows() -> list[UsageRow]:
    """$500 on gpt-4 over 100 calls and $50 on gpt-3.5-turbo over 1,000 calls in 30 days."""
    gpt4 = UsageRow(
        day=START,
        provider="openai",
        model="gpt-4-0613",
        calls=100,
        input_tokens=10_000_000,  # $300
        output_tokens=3_333_333,  # ~$200
        cost_usd=Decimal("500"),
    )
    cheap = [
        UsageRow(
            day=START + timedelta(days=3 * n),
            provider="openai",
            model="gpt-3.5-turbo",
            calls=100,
            input_tokens=6_000_000,  # $3
            output_tokens=1_333_333,  # ~$2
            cost_usd=Decimal("5"),
        )
        for n in range(10)
    ]
    return [gpt4, *cheap]


def test_expensive_model_gets_a_switch_with_the_whatif_savings():
    rows = seed_rows()

    recs = recommend(rows, days=30)

    switch = next(rec for rec in recs if rec.kind == "switch_model")
    assert switch.from_model == "gpt-4"
    assert switch.to_model == "gpt-4o-mini"
    assert (
        switch.title == "Switch 80% of gpt-4-0613 calls to gpt-4o-mini"
    )  # the name the calls used
    expected = whatif(rows, from_model="gpt-4", to_model="gpt-4o-mini", share=Decimal("0.8"))
    assert switch.monthly_savings_usd == expected.savings_usd
    assert switch.monthly_savings_usd > Decimal("390")
    assert switch.evidence.calls == 100
    assert switch.evidence.spend_usd == Decimal("500")
    assert recs[0] == switch


def test_savings_are_scaled_to_thirty_days():
    rows = seed_rows()

    weekly = recommend(rows, days=7)
    monthly = recommend(rows, days=30)

    weekly_switch = next(rec for rec in weekly if rec.kind == "switch_model")
    monthly_switch = next(rec for rec in monthly if rec.kind == "switch_model")
    assert weekly_switch.monthly_savings_usd == monthly_switch.monthly_savings_usd * 30 / 7


def test_models_without_a_substitute_get_no_switch():
    recs = recommend(seed_rows(), days=30)

    assert not any(rec.kind == "switch_model" and rec.model == "gpt-3.5-turbo" for rec in recs)


def test_recommendations_are_ranked_by_dollars():
    recs = recommend(seed_rows(), days=30, min_monthly_savings=Decimal("0"))

    savings = [rec.monthly_savings_usd for rec in recs if rec.monthly_savings_usd is not None]
    assert savings == sorted(savings, reverse=True)
    assert len(savings) >= 2


def test_small_savings_are_dropped():
    recs = recommend(seed_rows(), days=30, min_monthly_savings=Decimal("1000"))

    assert recs == []


def test_batch_api_uses_the_dataset_batch_prices():
    rows = [
        UsageRow(
            day=START,
            provider="openai",
            model="gpt-4",
            calls=100,
            input_tokens=1_000_000,
            cost_usd=Decimal("30"),
        )
    ]

    batch = next(rec for rec in recommend(rows, days=30) if rec.kind == "batch_api")

    # gpt-4 batch input is $15/M instead of $30/M; a quarter of calls assumed batchable.
    assert batch.monthly_savings_usd == Decimal("3.75")


def test_large_uncached_inputs_get_a_prompt_caching_recommendation():
    rows = [
        UsageRow(
            day=START,
            provider="anthropic",
            model="claude-sonnet-4-20250514",
            calls=1_000,
            input_tokens=10_000_000,
            cost_usd=Decimal("30"),
        )
    ]

    caching = next(rec for rec in recommend(rows, days=30) if rec.kind == "prompt_caching")

    # 5M tokens move from $3 to $0.30 (= $13.50), minus 0.5M written at +$0.75 (= $0.375).
    assert caching.monthly_savings_usd == Decimal("13.125")
    assert "10,000 input tokens" in caching.assumption


@pytest.mark.parametrize(
    ("provider", "model", "names", "never"),
    [
        ("anthropic", "claude-sonnet-4-20250514", ["cache_control"], ["prompt_cache_key"]),
        ("openai", "o4-mini", ["automatically", "prompt_cache_key"], ["cache_control"]),
        ("google", "gemini-2.5-pro", ["context cache", "cached_content"], ["cache_control"]),
    ],
)
def test_caching_advice_names_the_providers_own_mechanism(provider, model, names, never):
    rows = [
        UsageRow(
            day=START,
            provider=provider,
            model=model,
            calls=1_000,
            input_tokens=20_000_000,
            cost_usd=Decimal("60"),
        )
    ]

    caching = next(rec for rec in recommend(rows, days=30) if rec.kind == "prompt_caching")

    assert all(name in caching.action for name in names)
    assert not any(name in caching.action for name in never)


def test_well_cached_traffic_gets_no_caching_recommendation():
    rows = [
        UsageRow(
            day=START,
            provider="openai",
            model="gpt-4o",
            calls=1_000,
            input_tokens=10_000_000,
            cache_read_tokens=8_000_000,
            cost_usd=Decimal("15"),
        )
    ]

    assert not any(rec.kind == "prompt_caching" for rec in recommend(rows, days=30))


def test_calls_just_above_a_tier_threshold_get_a_long_context_recommendation():
    rows = [
        UsageRow(
            day=START,
            provider="google",
            model="gemini-2.5-pro",
            calls=10,
            input_tokens=2_100_000,
            cost_usd=Decimal("5.25"),
        )
    ]

    long_context = next(rec for rec in recommend(rows, days=30) if rec.kind == "long_context")

    # 2.1M input at $2.50 instead of $1.25.
    assert long_context.monthly_savings_usd == Decimal("2.625")
    assert long_context.title == "Keep gemini-2.5-pro prompts under 200,000 input tokens"


def test_unpriced_calls_are_reported_without_a_dollar_figure():
    rows = [
        UsageRow(
            day=START,
            provider="self-hosted",
            model="my-llama",
            calls=1_234,
            unpriced_calls=1_234,
        ),
        *seed_rows(),
    ]

    recs = recommend(rows, days=30, min_monthly_savings=Decimal("1000000"))

    [unpriced] = recs
    assert unpriced.kind == "unpriced"
    assert unpriced.monthly_savings_usd is None
    assert unpriced.title == "1,234 calls to my-llama have no price"


def test_substitution_table_targets_are_priced_models():
    from llmlab_core import model_prices

    for substitution in SUBSTITUTIONS:
        assert model_prices(substitution.to_model).input is not None, substitution


@pytest.mark.parametrize(
    ("model", "target"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4o-mini", None),
        ("claude-opus-4-1", "claude-sonnet-4-5"),
        ("claude-sonnet-4-0", "claude-haiku-4-5"),
        ("gemini-2.5-pro", "gemini-2.5-flash"),
        ("o3", "o4-mini"),
    ],
)
def test_substitution_lookup_uses_the_table(model, target):
    found = substitution_for(model)
    assert (found.to_model if found else None) == target


def test_days_must_be_positive():
    with pytest.raises(ValueError, match="days must be at least 1"):
        recommend([], days=0)


def test_titles_name_the_model_as_the_users_calls_recorded_it():
    rows = [
        UsageRow(
            day=START,
            provider="anthropic",
            model="claude-opus-4-20250514",
            calls=1_000,
            input_tokens=10_000_000,
            output_tokens=1_000_000,
            cost_usd=Decimal("225"),
        )
    ]

    switch = next(rec for rec in recommend(rows, days=30) if rec.kind == "switch_model")

    assert switch.evidence.recorded_as == ("claude-opus-4-20250514",)
    assert "claude-opus-4-20250514" in switch.title
    assert shown_name("claude-opus-4-0", switch.evidence) == "claude-opus-4-20250514"


def test_a_model_recorded_under_several_names_is_named_with_all_of_them():
    evidence = Evidence(
        days=30,
        calls=2,
        input_tokens=0,
        cache_read_tokens=0,
        output_tokens=0,
        spend_usd=Decimal(0),
        recorded_as=("gpt-4o", "gpt-4o-2024-08-06"),
    )
    assert shown_name("gpt-4o", evidence) == "gpt-4o (gpt-4o, gpt-4o-2024-08-06)"
