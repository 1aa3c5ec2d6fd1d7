"""The gateway's parts against a real database and the real ASGI app, in process: the
upstream unreachable, budget statuses kept and learnt, keys trusted during an outage, the
spool written exactly once."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from llmlab_app.api import create_app
from llmlab_app.db.models import ApiKey, User
from llmlab_app.gateway.budget_guard import BudgetGuard
from llmlab_app.gateway.callers import Sender
from llmlab_app.gateway.errors import BudgetExhausted
from llmlab_app.gateway.spool import EventSpool
from llmlab_app.services import budgets, events, keys
from llmlab_app.services.ingest import EventIn, ingest_events_blocking
from llmlab_app.services.keys import KeyCache
from llmlab_app.services.permissions import Role
from tests.conftest import Account
from tests.live_server import free_port
from tests.sdk.fake_provider import FakeProvider

MESSAGES: Any = [{"role": "user", "content": "hi"}]


def test_an_unreachable_provider_is_502_in_its_format_and_the_call_is_recorded(
    settings: Any, engine: Any, account: Any
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    app = create_app(settings.model_copy(update={"gateway_openai_url": closed}), engine)
    with TestClient(app) as http:
        client = openai.OpenAI(
            api_key="sk",
            base_url="http://testserver/gateway/openai/v1",
            default_headers={"X-LLMLab-Key": account.api_key},
            http_client=http,
            max_retries=0,
        )
        with pytest.raises(openai.InternalServerError) as raised:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        deadline = time.monotonic() + 10
        while not (items := _events(http, account)) and time.monotonic() < deadline:
            time.sleep(0.05)

    assert raised.value.status_code == 502
    assert raised.value.code == "upstream_unreachable"
    (event,) = items
    assert (event["status"], event["model"], Decimal(event["cost_usd"])) == ("error", "gpt-4o", 0)
    assert event["source"] == "gateway"
    assert event["metadata"] == {"endpoint": "chat/completions", "http_status": 502}


def _events(http: TestClient, account: Any) -> list[dict[str, Any]]:
    answer = http.get("/api/events", headers=account.key_headers)
    return answer.json()["data"]["items"]


def test_budget_statuses_are_kept_briefly_and_learnt_from_recorded_calls(
    engine: Any, account: Any
) -> None:
    org_id = uuid.UUID(account.org_id)
    spend = [EventIn(model="gpt-4o", provider="openai", input_tokens=4_000)]  # $0.01
    with Session(engine, expire_on_commit=False) as session:
        budgets.create_budget(
            session,
            actor=account.actor(session),
            name="cap",
            amount_usd=Decimal("0.01"),
            period="monthly",
            hard_limit=True,
        )

    async def scenario() -> list[str]:
        guard = BudgetGuard(engine)
        await guard.check(org_id, None)  # read: nothing spent
        statuses = ingest_events_blocking(engine, org_id=org_id, source="api", events=spend).budgets
        outcomes = []
        for learn in (False, True):
            if learn:
                guard.learn(org_id, statuses)
            try:
                await guard.check(org_id, None)
                outcomes.append("passed")
            except BudgetExhausted as exc:
                outcomes.append(exc.message.split(" is ")[0])
        return outcomes

    # Within the status interval the guard does not query (the spend is not seen) until
    # a recorded call reports the budget's new status.
    assert asyncio.run(scenario()) == ["passed", "LLMLab budget 'cap' (all projects)"]


def test_a_key_is_trusted_for_a_minute_after_it_was_verified_and_forgotten_when_revoked() -> None:
    cache = KeyCache(ttl_seconds=0.01)
    key = ApiKey(
        id=uuid.uuid4(),
        org_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        name="k",
        prefix="p",
        key_hash="h",
    )
    user = User(email="a@b.c", password_hash="x")
    cache.put("h", user, key, Role.MEMBER, generation=cache.generation)
    time.sleep(0.02)

    assert cache.get("h") is None  # expired for normal use
    assert cache.verified_within("h", 60) is not None  # still known for an outage
    assert cache.verified_within("h", 0.001) is None
    cache.forget(key.id)
    assert cache.verified_within("h", 60) is None


def test_spooled_events_are_written_once_even_when_spooled_twice(
    engine: Any, account: Any, tmp_path: Path
) -> None:
    org_id = uuid.UUID(account.org_id)
    with Session(engine) as session:
        key_id = session.exec(select(ApiKey.id).where(ApiKey.org_id == org_id)).one()
    sender = Sender(org_id=org_id, api_key_id=key_id)
    spool = EventSpool(tmp_path / "spool")
    event = EventIn(
        event_id="openai:chatcmpl-x",
        provider="openai",
        model="gpt-4o",
        input_tokens=1_000,
    )
    spool.write(sender, event)
    spool.write(sender, event)  # e.g. a replay after a crash between commit and removal
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")

    with pytest.raises(OperationalError):
        spool.drain(unreachable)
    assert len(spool.pending()) == 2  # kept for the next try
    assert spool.drain(engine) == 2
    assert spool.pending() == []

    with Session(engine) as session:
        page = events.list_events(session, org_id=org_id, filters=events.EventFilters())
    (stored,) = page.items
    assert (stored.client_event_id, stored.source) == ("openai:chatcmpl-x", "gateway")
    assert stored.cost_usd == Decimal("0.0025")


def test_neither_key_reaches_the_logs(
    settings: Any, engine: Any, account: Any, caplog: pytest.LogCaptureFixture
) -> None:
    provider = FakeProvider()
    app = create_app(
        settings.model_copy(update={"gateway_openai_url": f"{provider.url}/v1"}), engine
    )
    provider_key = "sk-provider-" + "s" * 24
    try:
        with caplog.at_level(logging.DEBUG), TestClient(app) as http:
            client = openai.OpenAI(
                api_key=provider_key,
                base_url="http://testserver/gateway/openai/v1",
                default_headers={"X-LLMLab-Key": account.api_key},
                http_client=http,
                max_retries=0,
            )
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
            with pytest.raises(openai.BadRequestError):
                client.chat.completions.create(model="explode", messages=MESSAGES)
            provider.stop()
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    finally:
        provider.stop()

    logged = caplog.text
    assert "unreachable" in logged  # the capture did see the gateway's own logging
    assert provider_key not in logged and account.api_key not in logged


def test_past_the_gateway_rate_limit_calls_get_429_in_the_providers_format(
    settings: Any, engine: Any, account: Any
) -> None:
    provider = FakeProvider()
    limited = settings.model_copy(
        update={"gateway_openai_url": f"{provider.url}/v1", "gateway_rate_limit": "2/minute"}
    )
    try:
        with TestClient(create_app(limited, engine)) as http:
            client = openai.OpenAI(
                api_key="sk",
                base_url="http://testserver/gateway/openai/v1",
                default_headers={"X-LLMLab-Key": account.api_key},
                http_client=http,
                max_retries=0,
            )
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            with pytest.raises(openai.RateLimitError) as raised:
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            # The REST API's own limit (10,000/minute here) is counted apart.
            assert http.get("/api/events", headers=account.key_headers).status_code == 200
    finally:
        provider.stop()

    assert raised.value.code == "rate_limit_exceeded"
    assert int(raised.value.response.headers["retry-after"]) >= 1
    assert len(provider.requests) == 2


def test_an_ingest_key_suffices_and_a_key_without_it_gets_403(
    settings: Any, engine: Any, account: Any
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        actor = account.actor(session)
        ingest_only = keys.create_key(session, actor=actor, name="gw", scopes=["ingest"])
        scopeless = keys.create_key(session, actor=actor, name="old", scopes=["ingest"])
        # A row no scope grants ingest to (none can be made through the API).
        session.execute(
            update(ApiKey).where(ApiKey.id == scopeless.key.id).values(scopes=["retired"])
        )
        session.commit()
    provider = FakeProvider()
    app = create_app(
        settings.model_copy(update={"gateway_openai_url": f"{provider.url}/v1"}), engine
    )
    try:
        with TestClient(app) as http:

            def call(secret: str) -> Any:
                client = openai.OpenAI(
                    api_key="sk",
                    base_url="http://testserver/gateway/openai/v1",
                    default_headers={"X-LLMLab-Key": secret},
                    http_client=http,
                    max_retries=0,
                )
                return client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

            assert call(ingest_only.secret).choices[0].message.content == "Hello there"
            with pytest.raises(openai.PermissionDeniedError) as refused:
                call(scopeless.secret)
    finally:
        provider.stop()

    assert "'ingest' scope" in refused.value.body["message"]
    assert len(provider.requests) == 1


def test_gateway_events_are_counted_in_the_metrics_under_their_source(
    settings: Any, engine: Any, account: Any
) -> None:
    provider = FakeProvider()
    token = "metrics-" + "t" * 32
    app = create_app(
        settings.model_copy(
            update={"gateway_openai_url": f"{provider.url}/v1", "metrics_token": token}
        ),
        engine,
    )

    def ingested(http: TestClient) -> float:
        text = http.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
        found = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "llmlab_events_ingested_total"
            and sample.labels == {"source": "gateway"}
        ]
        return found[0] if found else 0.0

    try:
        with TestClient(app) as http:
            before = ingested(http)
            client = openai.OpenAI(
                api_key="sk",
                base_url="http://testserver/gateway/openai/v1",
                default_headers={"X-LLMLab-Key": account.api_key},
                http_client=http,
                max_retries=0,
            )
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            deadline = time.monotonic() + 10
            while ingested(http) < before + 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            after = ingested(http)
    finally:
        provider.stop()

    assert after - before == 2


def test_a_members_key_records_into_its_organisation_until_their_role_may_not_track(
    settings: Any, engine: Any
) -> None:
    provider = FakeProvider()
    app = create_app(
        settings.model_copy(update={"gateway_openai_url": f"{provider.url}/v1"}), engine
    )
    try:
        with TestClient(app) as http:
            owner, member = Account(http, "ada@example.com"), Account(http, "grace@example.com")
            org_id = owner.create_org()
            owner.add_member(org_id, member, "member")
            client = openai.OpenAI(
                api_key="sk",
                base_url="http://testserver/gateway/openai/v1",
                default_headers={"X-LLMLab-Key": member.key_in(org_id)},
                http_client=http,
                max_retries=0,
            )
            answer = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            deadline = time.monotonic() + 10
            while not (shared := _org_events(http, owner, org_id)) and time.monotonic() < deadline:
                time.sleep(0.05)
            personal = _events(http, member)
            http.put(
                f"/api/orgs/{org_id}/members/{member.user_id}",
                json={"role": "viewer"},
                headers=owner.token_headers,
            )
            with pytest.raises(openai.PermissionDeniedError) as refused:
                client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    finally:
        provider.stop()

    assert [e["event_id"] for e in shared] == [f"openai:{answer.id}"]
    assert personal == []  # the member's own organisation got nothing
    assert "'track'" in refused.value.body["message"]
    assert len(provider.requests) == 1


def _org_events(http: TestClient, owner: Any, org_id: str) -> list[dict[str, Any]]:
    answer = http.get("/api/events", headers=owner.in_org(org_id))
    return answer.json()["data"]["items"]
