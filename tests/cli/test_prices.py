"""`llmlab prices MODEL` and `llmlab prices calc`: offline, from llmlab_core."""

from __future__ import annotations

from decimal import Decimal

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
