"""The reviewed overlay: every entry sourced, alive (different from the dataset), and applied
without touching the dataset it corrects; and prices files loaded in genai-prices' format."""

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from genai_prices import Usage as DatasetUsage
from genai_prices import calc_price

from llmlab_core import Usage, price_usage, resolve_model
from llmlab_core.errors import PricesFileError
from llmlab_core.pricing import corrections, dataset, use_prices_file
from llmlab_core.pricing.dataset import TIER_CONTEXTS, base_providers, dataset_info

JULY_2025 = datetime(2025, 7, 1, tzinfo=UTC)


def test_every_correction_names_a_checked_source():
    overlay = corrections.load_overlay()

    entries = [*overlay.corrections, *overlay.tier_rules]
    assert entries
    for entry in entries:
        assert entry.why
        for source in entry.sources:
            assert source.url or source.table
            assert source.checked <= date.today()


def test_every_correction_applies_to_the_bundled_dataset():
    assert dataset.skipped_corrections() == []


def test_no_correction_has_become_identical_to_the_dataset():
    # A dataset upgrade that fixes a price makes its correction dead: delete the entry then.
    overlay = corrections.load_overlay()

    differing = {diff.correction_id for diff in corrections.differences(base_providers(), overlay)}

    dead = [entry.id for entry in overlay.corrections if entry.id not in differing]
    assert dead == []


def test_a_correction_identical_to_the_dataset_is_reported_dead():
    overlay = corrections.load_overlay()
    same_as_dataset = overlay.model_copy(
        update={
            "corrections": [
                corrections.Correction(
                    id="no-op",
                    provider="openai",
                    model="gpt-4o",
                    prices={"input_mtok": Decimal("2.5")},
                    why="test",
                    sources=[{"table": "t", "checked": "2026-01-01", "says": "2.5"}],
                )
            ]
        }
    )

    assert corrections.differences(base_providers(), same_as_dataset) == []


def test_differences_show_dataset_and_overlay_values():
    found = corrections.differences(base_providers(), corrections.load_overlay())

    by_field = {(diff.correction_id, diff.field): diff for diff in found}
    cached = by_field[("ft-gpt-4o-cached-input", "cache_read_mtok")]
    assert (cached.dataset, cached.overlay) == (None, "1.875")
    moved = by_field[("gemini-1.5-flash-8b", "model")]
    assert (moved.dataset, moved.overlay) == ("gemini-1.5-flash", "gemini-1.5-flash-8b")


def test_the_one_hour_write_rule_fills_a_gap_in_the_dataset():
    filled = dataset.one_hour_filled()

    assert ("google", "claude-4-sonnet") in filled
    # Anthropic's own entries carry the 1-hour price already: the rule leaves them alone.
    assert not any(provider == "anthropic" for provider, _ in filled)


def test_every_tier_rule_fills_a_gap_in_the_dataset():
    overlay = corrections.load_overlay()
    today = datetime.now(UTC)

    for rule in overlay.tier_rules:
        provider = next(p for p in base_providers() if p.id == rule.provider)
        context = TIER_CONTEXTS[rule.service_tier]
        lacking = [
            model.id
            for model in provider.models
            if not any(
                (variant.constraint is None or variant.constraint.active(today))
                and all(context.get(key) == value for key, value in variant.when.items())
                for variant in model.price_variants or ()
            )
        ]
        assert lacking, rule.id


def test_the_overlay_leaves_genai_prices_own_data_untouched():
    usage = DatasetUsage(input_tokens=100_000, output_tokens=100_000)

    # genai-prices itself still bills the 8B model as Flash: only LLMLab's copy is corrected.
    flash_rates = calc_price(usage, "gemini-1.5-flash-8b", provider_id="google")

    assert flash_rates.total_price == Decimal("0.0375")
    assert flash_rates.model.id == "gemini-1.5-flash"


def test_a_correction_that_adds_a_model_cannot_carry_dates():
    with pytest.raises(ValueError, match="adds a model"):
        corrections.Correction(
            id="x",
            provider="openai",
            model="m",
            match={"equals": "m"},
            valid_from="2025-01-01",
            prices={"input_mtok": Decimal(1)},
            why="test",
            sources=[{"url": "https://example.test", "checked": "2026-01-01", "says": "1"}],
        )


def test_a_source_must_name_a_page_or_a_table():
    with pytest.raises(ValueError, match="url"):
        corrections.Source(checked="2026-01-01", says="nothing")


# --- a prices file in genai-prices' format --------------------------------------------------------

PRICES_FILE = [
    {
        "id": "openai",
        "name": "OpenAI",
        "api_pattern": "https://api\\.openai\\.com",
        "model_match": {"starts_with": "gpt-"},
        "models": [
            {
                "id": "gpt-4o",
                "match": {"or": [{"equals": "gpt-4o"}, {"equals": "gpt-4o-2024-08-06"}]},
                "prices": {"input_mtok": 2, "cache_read_mtok": 1, "output_mtok": 8},
            },
            {
                "id": "ft:gpt-4o",
                "match": {"starts_with": "ft:gpt-4o-2024-"},
                "prices": {"input_mtok": 3.75, "output_mtok": 15},
            },
        ],
    }
]


@pytest.fixture
def restore_bundled_dataset():
    yield
    use_prices_file(None)


def _write(tmp_path, content) -> object:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    day = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()
    os.utime(path, (day, day))
    return path


def test_a_prices_file_replaces_the_bundled_dataset(tmp_path, restore_bundled_dataset):
    info = use_prices_file(_write(tmp_path, PRICES_FILE))

    result = price_usage("gpt-4o-2024-08-06", Usage(input_tokens=1_000_000), at=JULY_2025)

    assert (info.kind, info.as_of) == ("prices file", date(2026, 11, 30))
    assert result.cost_usd == Decimal("2")
    assert result.price_source == "prices file 2026-11-30"
    assert resolve_model("gpt-4o").source == "prices file"
    assert dataset_info().kind == "prices file"


def test_the_overlay_still_corrects_a_prices_file(tmp_path, restore_bundled_dataset):
    use_prices_file(_write(tmp_path, PRICES_FILE))

    result = price_usage(
        "ft:gpt-4o-2024-08-06:acme::x", Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    )

    assert result.cost_usd == Decimal("1.875")
    # The file has no anthropic or google models: those corrections are skipped, not fatal.
    assert "claude-sonnet-4-long-context" in dataset.skipped_corrections()


def test_going_back_to_the_bundled_dataset(tmp_path, restore_bundled_dataset):
    use_prices_file(_write(tmp_path, PRICES_FILE))

    info = use_prices_file(None)

    assert info.price_source == "genai-prices 0.2.3"
    assert price_usage("claude-sonnet-4-5", Usage(input_tokens=1)).unpriced is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read prices file"),
        ('{"providers": []}', "expected a JSON array of providers"),
        ('[{"id": "openai"}]', "is invalid"),
        ("[]", "lists no provider"),
    ],
)
def test_an_unusable_prices_file_is_refused_and_the_dataset_kept(
    tmp_path, restore_bundled_dataset, content, message
):
    path = tmp_path / "data.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(PricesFileError, match=message):
        use_prices_file(path)

    assert dataset_info().kind == "dataset"
    assert price_usage("claude-sonnet-4-5", Usage(input_tokens=1)).unpriced is False


def test_a_missing_prices_file_is_refused(tmp_path, restore_bundled_dataset):
    with pytest.raises(PricesFileError, match="cannot read prices file"):
        use_prices_file(tmp_path / "missing.json")
