from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import text

from llmlab_core import Usage, price_usage


def _stored_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT COUNT(*) FROM cost_events")).scalar_one()


def test_one_event_is_priced_by_the_core_engine(account):
    response = account.track(
        {
            "event_id": "e1",
            "model": "gpt-4o",
            "input_tokens": 1_000_000,
            "cache_read_tokens": 500_000,
            "output_tokens": 0,
        }
    )
    assert response.status_code == 200, response.text
    event = response.json()["data"]["events"][0]
    assert event == {
        "id": event["id"],
        "event_id": "e1",
        "cost_usd": "1.875",
        "unpriced": False,
        "duplicate": False,
    }


def test_cost_matches_the_engine_for_anthropic_cache_usage(account):
    usage = Usage(
        input_tokens=5_100, cache_write_tokens=2_000, cache_read_tokens=3_000, output_tokens=500
    )
    expected = price_usage("claude-sonnet-4-20250514", usage).cost_usd
    response = account.track({"model": "claude-sonnet-4-20250514", **usage.model_dump()})
    assert (
        Decimal(response.json()["data"]["events"][0]["cost_usd"]) == expected == Decimal("0.0162")
    )


def test_resending_an_event_id_never_counts_twice(account, engine):
    event = {"event_id": "same", "model": "gpt-4o-mini", "input_tokens": 100, "output_tokens": 10}
    first = account.track(event).json()["data"]["events"][0]
    second = account.track(event).json()["data"]["events"][0]
    assert first["duplicate"] is False and second["duplicate"] is True
    assert _stored_count(engine) == 1
    summary = account.get("/api/costs/summary").json()["data"]
    assert summary["calls"] == 1


def test_duplicates_inside_one_batch_count_once(account, engine):
    event = {"event_id": "twice", "model": "gpt-4o-mini", "input_tokens": 1, "output_tokens": 1}
    data = account.track(event, event).json()["data"]["events"]
    assert [e["duplicate"] for e in data] == [False, True]
    assert _stored_count(engine) == 1


def test_racing_retries_of_one_event_store_it_once(client, account, engine):
    event = {"event_id": "race", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 10}
    barrier = threading.Barrier(6)
    answers: list[int] = []

    def send() -> None:
        barrier.wait()
        answers.append(account.track(event).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 6
    assert _stored_count(engine) == 1
    assert account.get("/api/costs/summary").json()["data"]["calls"] == 1


def test_a_batch_with_one_invalid_event_stores_nothing(account, engine):
    good = {"model": "gpt-4o", "input_tokens": 10, "output_tokens": 1}
    bad = {"model": "gpt-4o", "input_tokens": -1}
    response = account.track(good, good, bad)
    assert response.status_code == 422
    assert response.json()["error"].startswith("events[2].input_tokens")
    assert _stored_count(engine) == 0


def test_cache_tokens_above_input_name_the_event(account, engine):
    response = account.track(
        {"model": "gpt-4o", "input_tokens": 10},
        {"model": "gpt-4o", "input_tokens": 5, "cache_read_tokens": 6},
    )
    assert response.status_code == 422
    assert response.json()["error"].startswith("events[1]")
    assert _stored_count(engine) == 0


def test_unknown_model_is_stored_unpriced_not_zero(account):
    response = account.track({"model": "my-finetune-7b", "input_tokens": 500, "output_tokens": 20})
    event = response.json()["data"]["events"][0]
    assert event["unpriced"] is True and event["cost_usd"] is None
    summary = account.get("/api/costs/summary").json()["data"]
    assert summary["unpriced_calls"] == 1 and summary["input_tokens"] == 500


def test_client_reported_cost_is_kept_and_marked(account):
    account.track(
        {"model": "my-finetune-7b", "input_tokens": 5, "cost_usd": "0.25", "event_id": "c"}
    )
    item = account.get("/api/events").json()["data"]["items"][0]
    assert item["cost_usd"] == "0.25" and item["cost_source"] == "client"
    assert item["unpriced"] is False


def test_legacy_tokens_used_alone_is_stored_unpriced(account):
    event = account.track({"model": "gpt-4o", "tokens_used": 1234}).json()["data"]["events"][0]
    assert event["unpriced"] is True
    item = account.get("/api/events").json()["data"]["items"][0]
    assert item["tokens_used"] == 1234


def test_provider_is_inferred_and_project_created_on_first_use(account):
    account.track({"model": "claude-sonnet-4", "input_tokens": 1, "project": "search"})
    item = account.get("/api/events").json()["data"]["items"][0]
    assert item["provider"] == "anthropic" and item["project"] == "search"
    projects = account.get("/api/projects").json()["data"]
    assert [p["name"] for p in projects] == ["search"]


def test_timestamps_in_the_future_or_long_past_are_rejected(account):
    for stamp in ("2999-01-01T00:00:00Z", "1999-01-01T00:00:00Z"):
        response = account.track({"model": "gpt-4o", "input_tokens": 1, "timestamp": stamp})
        assert response.status_code == 422 and "timestamp" in response.json()["error"]


def test_a_batch_over_1000_events_is_rejected(account):
    events = [{"model": "gpt-4o", "input_tokens": 1}] * 1001
    response = account.client.post(
        "/api/events/track", json={"events": events}, headers=account.key_headers
    )
    assert response.status_code == 422 and "events" in response.json()["error"]


def test_a_batch_of_1000_is_stored_with_its_rollup(account, engine):
    events = [
        {"event_id": f"b{i}", "model": "gpt-4o-mini", "input_tokens": 1000 + i, "output_tokens": i}
        for i in range(1000)
    ]
    response = account.client.post(
        "/api/events/track", json={"events": events}, headers=account.key_headers
    )
    assert response.status_code == 200
    assert _stored_count(engine) == 1000
    summary = account.get("/api/costs/summary").json()["data"]
    assert summary["calls"] == 1000
    assert summary["input_tokens"] == sum(1000 + i for i in range(1000))


def test_track_answers_with_budget_status(account):
    account.client.post(
        "/api/budgets",
        json={"name": "tiny", "amount_usd": "0.01", "period": "monthly", "hard_limit": True},
        headers=account.key_headers,
    )
    data = account.track(
        {"model": "gpt-4o", "input_tokens": 10_000, "output_tokens": 1_000}
    ).json()["data"]
    assert data["budgets"][0]["exceeded"] is True and data["budgets"][0]["hard_limit"] is True
    assert Decimal(data["budgets"][0]["spent_usd"]) == Decimal("0.035")


def test_metadata_over_16kb_and_control_characters_are_rejected(account):
    big = account.track({"model": "gpt-4o", "metadata": {"x": "a" * 17_000}})
    assert big.status_code == 422 and "metadata" in big.json()["error"]
    control = account.track({"model": "gpt\x00-4o", "input_tokens": 1})
    assert control.status_code == 422


def test_sql_looking_and_unicode_strings_are_stored_verbatim(account):
    name = "'; DROP TABLE cost_events; -- 模型"
    account.track({"model": name, "input_tokens": 1, "tags": ["ü", "x'y"]})
    item = account.get("/api/events").json()["data"]["items"][0]
    assert item["model"] == name and item["tags"] == ["ü", "x'y"]
