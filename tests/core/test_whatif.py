from datetime import date
from decimal import Decimal

import pytest

from llmlab_core import UnknownModelError
from llmlab_core.rollups import UsageRow
from llmlab_core.whatif import whatif

DAY = date(2026, 11, 2)


def row(model="gpt-4o", day=DAY, **fields) -> UsageRow:
    values = {"provider": "openai", "calls": 100, "cost_usd": Decimal("0")} | fields
    return UsageRow(day=day, model=model, **values)


def test_moved_calls_are_billed_at_the_target_price():
    # 1M input + 1M output on gpt-4o = $12.50; on gpt-4o-mini = $0.75.
    rows = [row(input_tokens=1_000_000, output_tokens=1_000_000, cost_usd=Decimal("12.5"))]

    result = whatif(rows, from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal("1"))

    assert result.old_cost_usd == Decimal("12.5")
    assert result.new_cost_usd == Decimal("0.75")
    assert result.savings_usd == Decimal("11.75")
    assert result.calls_moved == 100
    assert result.to_provider == "openai"


def test_only_the_share_of_calls_moves():
    rows = [row(input_tokens=1_000_000, output_tokens=1_000_000, cost_usd=Decimal("12.5"))]

    result = whatif(rows, from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal("0.4"))

    assert result.new_cost_usd == Decimal("12.5") * Decimal("0.6") + Decimal("0.75") * Decimal(
        "0.4"
    )
    assert result.calls_moved == 40


def test_other_models_are_kept_as_recorded():
    rows = [
        row(input_tokens=1_000_000, cost_usd=Decimal("2.5")),
        row(model="claude-sonnet-4-0", provider="anthropic", cost_usd=Decimal("7")),
    ]

    result = whatif(rows, from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal("1"))

    assert result.old_cost_usd == Decimal("9.5")
    assert result.new_cost_usd == Decimal("7.15")


def test_dated_model_names_count_as_the_source_model():
    rows = [row(model="gpt-4o-2024-08-06", input_tokens=1_000_000, cost_usd=Decimal("2.5"))]

    result = whatif(rows, from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal("1"))

    assert result.savings_usd == Decimal("2.35")


def test_cached_reads_use_the_target_cache_price():
    rows = [row(input_tokens=1_000_000, cache_read_tokens=1_000_000, cost_usd=Decimal("1.25"))]

    result = whatif(rows, from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal("1"))

    assert result.new_cost_usd == Decimal("0.075")


def test_cache_writes_become_input_on_a_target_without_write_prices():
    rows = [
        row(
            model="claude-sonnet-4-0",
            provider="anthropic",
            input_tokens=1_000_000,
            cache_write_tokens=1_000_000,
            cost_usd=Decimal("3.75"),
        )
    ]

    result = whatif(
        rows, from_model="claude-sonnet-4-0", to_model="gpt-4o-mini", share=Decimal("1")
    )

    assert result.new_cost_usd == Decimal("0.15")


def test_target_tier_is_chosen_by_the_average_input_per_call():
    # 10 calls averaging 300k input: above gemini-2.5-pro's 200k threshold.
    long_calls = row(
        model="gemini-2.5-flash",
        provider="google",
        calls=10,
        input_tokens=3_000_000,
        cost_usd=Decimal("0.9"),
    )
    short_calls = long_calls.model_copy(update={"calls": 100})

    long_result = whatif(
        [long_calls], from_model="gemini-2.5-flash", to_model="gemini-2.5-pro", share=Decimal(1)
    )
    short_result = whatif(
        [short_calls], from_model="gemini-2.5-flash", to_model="gemini-2.5-pro", share=Decimal(1)
    )

    assert long_result.new_cost_usd == Decimal("7.5")
    assert short_result.new_cost_usd == Decimal("3.75")


def test_target_price_is_the_one_in_force_each_day():
    rows = [
        row(model="gpt-4o", day=day, input_tokens=1_000_000, cost_usd=Decimal("2.5"))
        for day in (date(2025, 5, 1), date(2025, 7, 1))
    ]

    result = whatif(rows, from_model="gpt-4o", to_model="o3", share=Decimal(1))

    assert [day.new for day in result.by_day] == [Decimal("10"), Decimal("2")]
    assert [day.savings for day in result.by_day] == [Decimal("-7.5"), Decimal("0.5")]


def test_unpriced_calls_are_left_out_of_both_sides():
    rows = [
        row(input_tokens=2_000_000, unpriced_calls=50, calls=100, cost_usd=Decimal("2.5")),
    ]

    result = whatif(rows, from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal(1))

    assert result.new_cost_usd == Decimal("0.15")
    assert result.calls_moved == 50


def test_share_must_be_between_zero_and_one():
    with pytest.raises(ValueError, match="share must be between 0 and 1"):
        whatif([], from_model="gpt-4o", to_model="gpt-4o-mini", share=Decimal("1.5"))


def test_unknown_target_model_raises():
    with pytest.raises(UnknownModelError, match="unknown model 'gpt-99'"):
        whatif([row()], from_model="gpt-4o", to_model="gpt-99", share=Decimal("1"))
