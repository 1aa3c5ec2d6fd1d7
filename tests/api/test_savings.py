from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from llmlab_core import Usage, price_usage


def _days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).isoformat()


def _heavy_gpt4o_usage(account) -> None:
    events = [
        {
            "model": "gpt-4o",
            "input_tokens": 20_000,
            "output_tokens": 500,
            "timestamp": _days_ago(i % 20),
        }
        for i in range(200)
    ]
    assert account.track(*events).status_code == 200


def test_whatif_reprices_real_usage_with_the_engine(account):
    _heavy_gpt4o_usage(account)
    start = (datetime.now(UTC) - timedelta(days=25)).date().isoformat()
    body = {"from_model": "gpt-4o", "to_model": "gpt-4o-mini", "share": "0.8", "start": start}
    data = account.client.post("/api/whatif", json=body, headers=account.key_headers).json()["data"]
    usage = Usage(input_tokens=20_000, output_tokens=500)
    old_one = price_usage("gpt-4o", usage).cost_usd
    new_one = price_usage("gpt-4o-mini", usage).cost_usd
    assert Decimal(data["old_cost_usd"]) == old_one * 200
    expected_new = old_one * 200 * Decimal("0.2") + new_one * 200 * Decimal("0.8")
    assert Decimal(data["new_cost_usd"]) == expected_new
    assert Decimal(data["savings_usd"]) == old_one * 200 - expected_new
    assert data["calls_moved"] == 160
    assert sum(Decimal(d["savings_usd"]) for d in data["by_day"]) == Decimal(data["savings_usd"])


def test_whatif_rejects_bad_share_and_unknown_target(account):
    bad_share = {"from_model": "gpt-4o", "to_model": "gpt-4o-mini", "share": "1.5"}
    assert (
        account.client.post("/api/whatif", json=bad_share, headers=account.key_headers).status_code
        == 422
    )
    unknown = {"from_model": "gpt-4o", "to_model": "no-such-model-xyz"}
    response = account.client.post("/api/whatif", json=unknown, headers=account.key_headers)
    assert response.status_code == 422 and "no-such-model-xyz" in response.json()["error"]


def test_recommendations_rank_a_cheaper_model_with_dollars(account):
    _heavy_gpt4o_usage(account)
    account.track({"model": "house-model", "input_tokens": 10})
    recs = account.get("/api/recommendations").json()["data"]
    switch = next(r for r in recs if r["kind"] == "switch_model")
    assert switch["from_model"] == "gpt-4o" and switch["to_model"] == "gpt-4o-mini"
    assert Decimal(switch["monthly_savings_usd"]) > 0
    assert switch["evidence"]["calls"] == 200
    assert recs[-1]["kind"] == "unpriced" and recs[-1]["monthly_savings_usd"] is None
    dollars = [Decimal(r["monthly_savings_usd"]) for r in recs if r["monthly_savings_usd"]]
    assert dollars == sorted(dollars, reverse=True)


def test_no_recommendations_without_usage(account):
    assert account.get("/api/recommendations").json()["data"] == []
