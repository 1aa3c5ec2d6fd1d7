"""``LLMLabClient`` against the real API: every route, envelope unwrapping, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from llmlab_sdk import LLMLabAPIError, LLMLabClient, LLMLabConnectionError
from llmlab_sdk.http import parse_retry_after
from tests.live_server import free_port

from .ingest_stub import IngestStub
from .real_app import RealApp

pytestmark = pytest.mark.slow

NOW = datetime.now(UTC)


def an_event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 1000,
        "output_tokens": 100,
        "timestamp": NOW.isoformat(),
        **fields,
    }


def test_health_and_prices_need_no_credentials(real_app: RealApp) -> None:
    with LLMLabClient(real_app.url) as client:
        assert client.health()["status"] == "ok"
        prices = client.get_prices("gpt-4o-mini", provider="openai")

    assert prices["input_per_mtok"] == "0.15"
    assert prices["output_per_mtok"] == "0.6"


def test_auth_routes(real_app: RealApp, api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]

    assert client.me()["email"] == api_account["email"]
    logged_in = client.login(api_account["email"], api_account["password"])
    assert logged_in["token_type"] == "bearer"
    refreshed = client.refresh(logged_in["refresh_token"])
    assert refreshed["access_token"]
    client.logout(refreshed["refresh_token"])
    with pytest.raises(LLMLabAPIError) as caught:
        client.refresh(refreshed["refresh_token"])
    assert caught.value.status_code == 401


def test_api_key_routes(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]

    created = client.create_key("ci")
    assert created["key"].startswith("llmlab_")
    assert {"default", "ci"} <= {key["name"] for key in client.list_keys()}
    client.delete_key(created["id"])

    revoked = LLMLabClient(client.base_url, api_key=created["key"])
    with revoked, pytest.raises(LLMLabAPIError) as caught:
        revoked.list_projects()
    assert caught.value.status_code == 401


def test_account_routes_refuse_an_api_key(real_app: RealApp, api_account: dict[str, Any]) -> None:
    client = LLMLabClient(real_app.url, api_key=api_account["api_key"]["key"])
    with client, pytest.raises(LLMLabAPIError) as caught:
        client.list_keys()

    assert caught.value.status_code == 401
    assert "login token" in caught.value.message


def test_tracking_is_idempotent_by_event_id(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]

    first = client.track_events([an_event("e-1"), an_event("e-2")])
    again = client.track_event(an_event("e-1"))

    assert [e["duplicate"] for e in first["events"]] == [False, False]
    assert again["events"][0]["duplicate"] is True
    assert first["events"][0]["cost_usd"] == "0.0035"  # 1,000 in at $2.50/M + 100 out at $10/M


def test_an_invalid_event_rejects_the_batch_naming_its_index(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]

    with pytest.raises(LLMLabAPIError) as caught:
        client.track_events([an_event("ok"), an_event("bad", input_tokens=-1)])

    assert caught.value.status_code == 422
    assert "events[1]" in caught.value.message


def test_events_listing_pagination_csv_and_summary(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]
    client.track_events(
        [an_event(f"p-{n}", project="paging", tags=["t"], end_user="u1") for n in range(5)]
    )

    page = client.list_events(project="paging", limit=2)
    every = list(client.iter_events(project="paging", limit=2))
    csv_text = b"".join(client.export_events_csv(project="paging")).decode()
    summary = client.cost_summary(
        start=(NOW - timedelta(days=1)).date(),
        end=(NOW + timedelta(days=1)).date(),
        project="paging",
    )

    assert len(page["items"]) == 2 and page["next_cursor"]
    assert sorted(e["event_id"] for e in every) == [f"p-{n}" for n in range(5)]
    assert len(csv_text.strip().splitlines()) == 6  # header + 5 events
    assert summary["calls"] == 5
    assert summary["total_cost_usd"] == "0.0175"


def test_projects_and_budgets(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]

    project = client.create_project("checkout")
    assert "checkout" in {p["name"] for p in client.list_projects()}
    budget = client.create_budget(
        name="cap", amount_usd="5.00", project="checkout", hard_limit=True
    )
    assert budget["project"] == "checkout" and budget["exceeded"] is False
    updated = client.update_budget(budget["id"], amount_usd="7.50")
    assert Decimal(updated["amount_usd"]) == Decimal("7.50")
    assert [b["id"] for b in client.list_budgets()] == [budget["id"]]
    assert client.list_budget_alerts(budget["id"]) == []
    client.delete_budget(budget["id"])
    assert client.list_budgets() == []
    assert project["name"] == "checkout"


def test_an_unreachable_server_raises_a_connection_error() -> None:
    client = LLMLabClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with client, pytest.raises(LLMLabConnectionError, match="cannot reach LLMLab"):
        client.health()


def test_rate_limiting_carries_retry_after(ingest: IngestStub) -> None:
    ingest.fail_next(429, retry_after="7")
    client = LLMLabClient(ingest.url, api_key=ingest.state.api_key)
    with client, pytest.raises(LLMLabAPIError) as caught:
        client.track_event(an_event("x"))

    assert caught.value.status_code == 429
    assert caught.value.retry_after == 7.0
    assert caught.value.is_retryable


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    in_a_minute = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%a, %d %b %Y %H:%M:%S GMT")

    assert parse_retry_after("3") == 3.0
    assert 50 < (parse_retry_after(in_a_minute) or 0) <= 60
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_alert_listings(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]
    budget = client.create_budget(name="small", amount_usd="0.01")

    client.track_event(an_event("over-budget", input_tokens=10_000))  # $0.026

    kinds = {(alert["budget_id"], alert["threshold"]) for alert in client.list_alerts()}
    assert (budget["id"], 100) in kinds
    assert client.list_budget_alerts(budget["id"])
    assert client.list_budget_deliveries(budget["id"]) == []  # no webhook configured


def test_price_overrides_reprice_new_events(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]

    override = client.create_price_override(
        provider="openai", model="gpt-4o", input_per_mtok="1.00", output_per_mtok="2.00"
    )
    tracked = client.track_event(an_event("negotiated"))
    assert [o["id"] for o in client.list_price_overrides()] == [override["id"]]
    client.delete_price_override(override["id"])

    assert tracked["events"][0]["cost_usd"] == "0.0012"  # 1,000 x $1/M + 100 x $2/M
    assert client.list_price_overrides() == []


def test_recommendations_and_whatif(api_account: dict[str, Any]) -> None:
    client: LLMLabClient = api_account["client"]
    client.track_events([an_event(f"w-{n}") for n in range(4)])

    recommendations = client.recommendations(days=7)
    what_if = client.whatif(from_model="gpt-4o", to_model="gpt-4o-mini", share=0.5)

    assert isinstance(recommendations, list)
    assert what_if["calls_moved"] == 2
    assert Decimal(what_if["old_cost_usd"]) == Decimal("0.014")
    assert Decimal(what_if["savings_usd"]) > 0
