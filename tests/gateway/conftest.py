"""The gateway as clients meet it: the real API under uvicorn (SQLite, and PostgreSQL when
`LLMLAB_TEST_DATABASE_URL` is set) in front of the local fake provider."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from llmlab_core import Usage, price_usage
from llmlab_core.usage import TOKEN_KINDS
from tests.conftest import BACKENDS
from tests.live_server import LiveServer, start_api_server
from tests.sdk.fake_provider import FakeProvider


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.stop()


@pytest.fixture
def provider(fake_provider: FakeProvider) -> FakeProvider:
    """The fake provider with its request log emptied."""
    fake_provider.reset()
    return fake_provider


def gateway_env(provider_url: str, **extra: str) -> dict[str, str]:
    return {
        "LLMLAB_GATEWAY_OPENAI_URL": f"{provider_url}/v1",
        "LLMLAB_GATEWAY_ANTHROPIC_URL": f"{provider_url}/v1",
        "LLMLAB_RATE_LIMIT": "1000000/minute",
        "LLMLAB_AUTH_RATE_LIMIT": "1000000/minute",
        **extra,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def gateway_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_provider: FakeProvider,
    _engines: dict[str, Engine],
) -> Iterator[LiveServer]:
    """`uvicorn llmlab_app.api:app` with the gateway pointed at the fake provider."""
    extra = {}
    if request.param == "postgresql":
        # The test database, already emptied and migrated for this session by `_engines`.
        url = _engines["postgresql"].url.render_as_string(hide_password=False)
        extra["LLMLAB_DATABASE_URL"] = url
    server = start_api_server(
        tmp_path_factory.mktemp(f"gateway-{request.param}"),
        gateway_env(fake_provider.url, **extra),
    )
    yield server
    server.stop()


@dataclass
class GatewayAccount:
    """A user signed up through the API, and the clients' view of the gateway."""

    base_url: str
    key: str
    api: httpx.Client

    @property
    def openai_url(self) -> str:
        return f"{self.base_url}/gateway/openai/v1"

    @property
    def anthropic_url(self) -> str:
        return f"{self.base_url}/gateway/anthropic"

    @property
    def headers(self) -> dict[str, str]:
        return {"X-LLMLab-Key": self.key}

    def events(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The account's events, oldest first, once there are `count` of them (recording
        happens just after the answer)."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.api.get("/api/events", params={"limit": 1000}).json()["data"]["items"]
            if len(items) >= count or time.monotonic() > deadline:
                return sorted(items, key=lambda e: (e["timestamp"], e["event_id"]))
            time.sleep(0.05)


def sign_up(base_url: str) -> GatewayAccount:
    api = httpx.Client(base_url=base_url, timeout=30)
    email = f"gw-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/auth/signup", json={"email": email, "password": "correct horse 1"})
    assert answer.status_code == 201, answer.text
    key = answer.json()["data"]["api_key"]["key"]
    api.headers["X-API-Key"] = key
    return GatewayAccount(base_url, key, api)


@pytest.fixture
def gateway(gateway_server: LiveServer) -> Iterator[GatewayAccount]:
    account = sign_up(gateway_server.base_url)
    yield account
    account.api.close()


def expected_cost(event: dict[str, Any]) -> Decimal | None:
    """What the pricing engine says the recorded usage costs, at the recorded tier."""
    usage = Usage(**tokens(event))
    at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    return price_usage(
        event["model"],
        usage,
        provider=event["provider"],
        at=at,
        service_tier=event["service_tier"],
    ).cost_usd


def tokens(event: dict[str, Any]) -> dict[str, int]:
    """Every token count of a recorded event (or of what a usage reader found)."""
    return {name: event[name] for name in TOKEN_KINDS}


def usage(expected: dict[str, int]) -> dict[str, int]:
    """A fake provider's expected usage with the buckets it leaves out at 0."""
    return dict.fromkeys(TOKEN_KINDS, 0) | expected
