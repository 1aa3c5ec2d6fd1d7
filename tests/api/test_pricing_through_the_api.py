"""The price of what is tracked, through the REST API: prefixed names, fine-tunes, 1-hour
cache writes, service tiers. Values pinned by hand from the providers' per-million rates."""

from __future__ import annotations

import csv
import io

import pytest

M = 1_000_000


def _cost(account, event: dict) -> tuple[str, bool]:
    answer = account.track(event)
    assert answer.status_code == 200, answer.text
    tracked = answer.json()["data"]["events"][0]
    return tracked["cost_usd"], tracked["unpriced"]


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("openai/gpt-4o", None, "12.5"),  # $2.50 in + $10 out
        ("anthropic/claude-sonnet-4-5", None, "28.5"),  # long-context tier: $6 + $22.50
        ("gemini/gemini-2.5-pro", None, "17.5"),
        ("google/gemini-2.5-flash", None, "2.8"),
        ("models/gemini-2.5-flash", "google", "2.8"),  # as google-genai reports it
    ],
)
def test_provider_prefixed_names_price_like_the_bare_name(account, model, provider, expected):
    event = {"model": model, "input_tokens": M, "output_tokens": M}
    if provider:
        event["provider"] = provider
    assert _cost(account, event) == (expected, False)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # fine-tuned inference rates per 1M: input / cached input / output
        ("ft:gpt-4o-mini-2024-07-18:acme:support:abc123", "1.425"),  # 0.30 / 0.15 / 1.20
        ("ft:gpt-4o-2024-08-06:acme::B1x", "17.8125"),  # 3.75 / 1.875 / 15
        ("ft:gpt-4.1-2025-04-14:acme::xyz", "13.875"),  # 3.00 / 0.75 / 12
        ("ft:o4-mini-2025-04-16:acme:r:1", "18.5"),  # 4.00 / 1.00 / 16
    ],
)
def test_fine_tuned_models_bill_fine_tuned_rates_with_cached_input(account, model, expected):
    event = {"model": model, "input_tokens": M, "cache_read_tokens": M // 2, "output_tokens": M}
    assert _cost(account, event) == (expected, False)


def test_one_hour_cache_writes_bill_twice_input_and_the_rest_at_the_5_minute_rate(account):
    event = {
        "model": "claude-sonnet-4-5",
        "input_tokens": 100_000,
        "cache_write_tokens": 60_000,
        "cache_write_1h_tokens": 40_000,
    }
    # 40k x $6 (1-hour write) + 20k x $3.75 (5-minute write) + 40k x $3 (plain input)
    assert _cost(account, event) == ("0.435", False)
    rows = account.get("/api/events").json()["data"]["items"]
    assert (rows[0]["cache_write_tokens"], rows[0]["cache_write_1h_tokens"]) == (60_000, 40_000)
    summary = account.get("/api/costs/summary").json()["data"]
    assert summary["cache_write_1h_tokens"] == 40_000
    exported = account.get("/api/events", format="csv")
    record = next(csv.DictReader(io.StringIO(exported.text)))
    assert record["cache_write_1h_tokens"] == "40000"


def test_one_hour_writes_beyond_all_cache_writes_are_refused_by_name(account):
    event = {
        "model": "claude-sonnet-4-5",
        "input_tokens": 100,
        "cache_write_tokens": 10,
        "cache_write_1h_tokens": 11,
    }
    answer = account.track(event)
    assert answer.status_code == 422
    assert "cache_write_1h_tokens" in answer.json()["error"]
    assert account.get("/api/events").json()["data"]["items"] == []


@pytest.mark.parametrize(
    ("model", "tier", "input_tokens", "expected"),
    [
        ("gpt-4o", "standard", M, "2.5"),
        ("gpt-4o", "batch", M, "1.25"),  # the Batch API: half the standard rates
        ("o3", "flex", M, "1"),
        ("gpt-4o", "priority", M, "4.25"),
        ("claude-sonnet-4-5", "batch", 200_000, "0.3"),  # Message Batches: $1.50 instead of $3
    ],
)
def test_service_tiers_bill_their_own_rates(account, model, tier, input_tokens, expected):
    event = {"model": model, "input_tokens": input_tokens, "service_tier": tier}
    assert _cost(account, event) == (expected, False)
    assert account.get("/api/events").json()["data"]["items"][0]["service_tier"] == tier


def test_an_unknown_service_tier_is_a_422_naming_the_field(account):
    answer = account.track({"model": "gpt-4o", "input_tokens": 10, "service_tier": "gold"})
    assert answer.status_code == 422 and "service_tier" in answer.json()["error"]
