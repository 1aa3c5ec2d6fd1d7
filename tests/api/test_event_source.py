"""Every event says which ingress it came through (`source`), and keeps a cost its sender
reported beside LLMLab's own price (`reported_cost_usd`), in the API, the CSV and the rows that
any source writes through the one ingest path."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest

from llmlab_app.services.ingest import EventIn, ingest_events_blocking

EVENT = {"model": "gpt-4o", "provider": "openai", "input_tokens": 1_000, "output_tokens": 100}


def _listed(account) -> dict[str, dict]:
    items = account.get("/api/events").json()["data"]["items"]
    return {item["event_id"]: item for item in items}


def test_rest_events_are_api_unless_the_sdk_says_sdk(account):
    assert account.track(EVENT | {"event_id": "plain"}).status_code == 200
    assert account.track(EVENT | {"event_id": "from-sdk", "source": "sdk"}).status_code == 200

    listed = _listed(account)
    assert listed["plain"]["source"] == "api"
    assert listed["from-sdk"]["source"] == "sdk"


@pytest.mark.parametrize("source", ["otlp", "gateway", "bogus"])
def test_a_rest_client_cannot_claim_another_ingress(account, source):
    response = account.track(EVENT | {"source": source})

    assert response.status_code == 422
    assert "source" in response.json()["error"]
    assert account.get("/api/events").json()["data"]["items"] == []


def test_a_reported_cost_is_kept_beside_ours_and_never_used_as_the_price(account):
    assert (
        account.track(EVENT | {"event_id": "r", "reported_cost_usd": "0.0123"}).status_code == 200
    )
    assert account.track(EVENT | {"event_id": "n"}).status_code == 200

    listed = _listed(account)
    assert listed["r"]["reported_cost_usd"] == "0.0123"
    assert listed["n"]["reported_cost_usd"] is None
    # gpt-4o: 1,000 in at $2.50/M + 100 out at $10/M, whatever the sender said.
    assert Decimal(listed["r"]["cost_usd"]) == Decimal("0.0035") == Decimal(listed["n"]["cost_usd"])
    assert listed["r"]["cost_source"] == "engine"

    rows = list(csv.DictReader(io.StringIO(account.get("/api/events", format="csv").text)))
    by_id = {row["event_id"]: row for row in rows}
    assert (by_id["r"]["source"], by_id["r"]["reported_cost_usd"]) == ("api", "0.0123")
    assert (by_id["n"]["source"], by_id["n"]["reported_cost_usd"]) == ("api", "")


def test_an_ingress_marks_its_events_and_answers_each_one(account, engine):
    """What the OTLP receiver does: not all-or-nothing; a contradicting event is rejected
    with its reason, the others are stored, a repeat is a duplicate; every row is `otlp`
    whatever the event itself said."""
    org_id = uuid.UUID(account.org_id)
    events = [
        EventIn(event_id="ok", **EVENT),
        EventIn(event_id="bad", model="gpt-4o", input_tokens=10, cache_read_tokens=50),
        EventIn(event_id="ok", **EVENT),
        EventIn(event_id="claims-sdk", source="sdk", **EVENT),
    ]

    answer = ingest_events_blocking(engine, org_id=org_id, source="otlp", events=events)
    again = ingest_events_blocking(engine, org_id=org_id, source="otlp", events=events[:1])

    assert [e.outcome for e in answer.events] == ["stored", "rejected", "duplicate", "stored"]
    assert "cache_read_tokens" in (answer.events[1].reason or "")
    assert answer.stored == 2
    assert [e.outcome for e in again.events] == ["duplicate"]
    listed = _listed(account)
    assert set(listed) == {"ok", "claims-sdk"}
    assert {item["source"] for item in listed.values()} == {"otlp"}


def test_atomic_ingest_refuses_the_whole_batch_naming_the_event(account, engine):
    from llmlab_app.errors import InvalidInput

    events = [
        EventIn(event_id="fine", **EVENT),
        EventIn(event_id="bad", model="gpt-4o", input_tokens=10, cache_read_tokens=50),
    ]
    with pytest.raises(InvalidInput, match=r"events\[1\]"):
        ingest_events_blocking(
            engine, org_id=uuid.UUID(account.org_id), source="api", events=events, atomic=True
        )
    assert _listed(account) == {}
