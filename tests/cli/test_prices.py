"""`llmlab prices` (list, MODEL, resolve, check, calc): offline, from llmlab_core."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from llmlab_core import Usage, price_usage


def test_prices_of_a_model_as_json(cli):
    prices = cli.json("prices", "gpt-4o")
    assert prices["provider"] == "openai"
    assert (prices["input"], prices["cache_read"], prices["output"]) == ("2.5", "1.25", "10")


def test_prices_table_shows_tiers(cli):
    out = cli.ok("prices", "gemini-2.5-pro")
    assert "$1.25" in out and "$10.00" in out
    assert "above 200,000 input tokens" in out and "$2.50" in out


def test_prices_resolve_dated_names_and_need_no_server(cli, monkeypatch):
    monkeypatch.setenv("LLMLAB_BASE_URL", "http://127.0.0.1:9")
    assert cli.json("prices", "show", "claude-sonnet-4-20250514")["canonical_model"].startswith(
        "claude-sonnet-4"
    )


def test_calc_matches_the_core_engine(cli):
    result = cli.json(
        "prices", "calc", "claude-sonnet-4", "--input", "10000", "--cached", "6000",
        "--cache-write", "1000", "--output", "500",
    )  # fmt: skip
    expected = price_usage(
        "claude-sonnet-4",
        Usage(
            input_tokens=10000, cache_read_tokens=6000, cache_write_tokens=1000, output_tokens=500
        ),
    )
    assert Decimal(result["cost_usd"]) == expected.cost_usd
    assert result["breakdown"].keys() >= {"input", "cache_read", "output"}


def test_calc_table_shows_the_exact_total(cli):
    out = cli.ok("prices", "calc", "gpt-4o", "--input", "1000000", "--cached", "500000")
    assert "$1.875" in out and "Cache reads" in out


def test_prices_on_a_past_date(cli):
    # o3 cost $10/$40 per million before 2025-06-10.
    assert cli.json("prices", "o3", "--at", "2025-05-01")["input"] == "10"
    assert cli.json("prices", "o3")["input"] == "2"


def test_prices_with_no_model_lists_the_known_models(cli):
    result = cli.run("prices")

    assert result.exit_code == 0, result.output
    assert "Prices per 1M tokens" in result.stdout
    for model in ("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro", "gemini-1.5-flash-8b"):
        assert model in result.stdout


def test_prices_search_filters_the_list(cli):
    listed = cli.json("prices", "--search", "sonnet")

    assert listed
    assert all("sonnet" in row["model"] for row in listed)
    sonnet_4_5 = next(
        row
        for row in listed
        if row["model"] == "claude-sonnet-4-5" and row["provider"] == "anthropic"
    )
    assert (sonnet_4_5["input_per_mtok"], sonnet_4_5["output_per_mtok"]) == ("3", "15")
    assert "sonnet" in cli.ok("prices", "list", "-s", "SONNET")


def test_prices_search_with_no_match_is_a_one_line_error(cli):
    cli.one_line_error(cli.run("prices", "--search", "no-such-model"), mentions="no model matches")


def test_resolve_shows_the_canonical_model_and_source(cli):
    resolved = cli.json("prices", "resolve", "openai/gpt-4o-2024-08-06")

    assert resolved["canonical_model"] == "gpt-4o"
    assert resolved["provider"] == "openai"
    assert resolved["lookup_name"] == "gpt-4o-2024-08-06"
    assert resolved["source"] == "dataset"
    assert resolved["prices"]["input"] == "2.5"


def test_resolve_names_the_overlay_for_a_corrected_price(cli):
    out = cli.ok("prices", "resolve", "ft:gpt-4.1-2025-04-14:acme:support:abc123")

    assert "ft:gpt-4.1" in out
    assert "overlay: ft-gpt-4.1" in out
    assert "$0.75" in out  # cached input of a fine-tuned gpt-4.1


def test_resolve_of_an_unpriced_name_says_so(cli):
    cli.one_line_error(cli.run("prices", "resolve", "gemini-9-ultra"), mentions="unpriced")


def test_check_lists_every_correction_with_its_source(cli):
    checked = cli.json("prices", "check")

    corrected = {diff["correction"] for diff in checked["differences"]}
    assert {"gemini-1.5-flash-8b", "ft-gpt-4.1", "claude-sonnet-4-long-context"} <= corrected
    assert checked["dead"] == []
    assert checked["skipped"] == []
    assert all(diff["sources"] for diff in checked["differences"])
    assert "Corrections to genai-prices 0.2.3" in cli.ok("prices", "check")


def test_calc_bills_one_hour_cache_writes_and_service_tiers(cli):
    one_hour = cli.json(
        "prices", "calc", "claude-sonnet-4-5", "--input", "10000", "--cache-write", "8000",
        "--cache-write-1h", "3000",
    )  # fmt: skip
    batch = cli.json("prices", "calc", "gpt-4o", "--input", "1000000", "--tier", "batch")

    assert Decimal(one_hour["cost_usd"]) == Decimal("0.04275")
    assert Decimal(batch["cost_usd"]) == Decimal("1.25")


def test_calc_rejects_more_one_hour_writes_than_writes(cli):
    result = cli.run(
        "prices", "calc", "claude-sonnet-4-5", "--input", "10", "--cache-write", "1",
        "--cache-write-1h", "2",
    )  # fmt: skip
    cli.one_line_error(result, mentions="cache_write_1h_tokens (2) exceeds")


def test_an_unknown_tier_is_a_one_line_error(cli):
    cli.one_line_error(cli.run("prices", "gpt-4o", "--tier", "turbo"), mentions="service tier")


@pytest.fixture
def bundled_prices_afterwards():
    yield
    from llmlab_core.pricing import use_prices_file

    use_prices_file(None)


def test_prices_come_from_llmlab_prices_file(cli, tmp_path, monkeypatch, bundled_prices_afterwards):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(PRICES_FILE), encoding="utf-8")
    monkeypatch.setenv("LLMLAB_PRICES_FILE", str(path))

    prices = cli.json("prices", "gpt-4o")

    assert prices["input"] == "2"
    assert prices["price_source"].startswith("prices file ")


def test_an_unusable_prices_file_is_a_one_line_error(
    cli, tmp_path, monkeypatch, bundled_prices_afterwards
):
    path = tmp_path / "data.json"
    path.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("LLMLAB_PRICES_FILE", str(path))

    cli.one_line_error(cli.run("prices", "gpt-4o"), mentions="expected a JSON array")


PRICES_FILE = [
    {
        "id": "openai",
        "name": "OpenAI",
        "api_pattern": "https://api\\.openai\\.com",
        "model_match": {"starts_with": "gpt-"},
        "models": [
            {"id": "gpt-4o", "match": {"equals": "gpt-4o"}, "prices": {"input_mtok": 2}},
        ],
    }
]


def test_reprice_moves_stored_costs_to_an_override_from_the_past(cli, configured, server_url):
    from datetime import UTC, datetime, timedelta

    import httpx

    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    cli.ok("track", "--model", "gpt-4o", "--input", "1000000", "--timestamp", yesterday)
    override = {
        "provider": "openai",
        "model": "gpt-4o",
        "input_per_mtok": "1",
        "output_per_mtok": "4",
        "valid_from": (datetime.now(UTC) - timedelta(days=10)).isoformat(),
    }
    headers = {"Authorization": f"Bearer {configured.api_key}"}
    created = httpx.post(f"{server_url}/api/prices/overrides", json=override, headers=headers)
    assert created.status_code == 201, created.text
    start = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    out = cli.ok("prices", "reprice", "--start", start)
    assert "1 changed" in out and "$2.50 -> $1.00" in out
    assert cli.json("prices", "reprice", "--start", start)["changed"] == 0
