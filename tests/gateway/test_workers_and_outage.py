"""The gateway with several workers sharing Redis (rate limits, hard budgets), and through a
database outage: calls go on, their events are spooled and written once when it is back."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import redis
from sqlalchemy import Engine

from tests.conftest import BACKENDS
from tests.live_server import start_api_server
from tests.reliability.test_database_restart import PG_BIN, PrivatePostgres
from tests.sdk.fake_provider import FakeProvider

from .conftest import gateway_env, sign_up

pytestmark = pytest.mark.slow

# CI sets it; rate-limit entries are per API key, so sharing the database with others is safe.
REDIS_URL = os.environ.get("LLMLAB_TEST_REDIS_URL")
MESSAGES: Any = [{"role": "user", "content": "hi"}]


def call_on_a_new_connection(url: str, key: str) -> int:
    """One chat call on a connection of its own, so that the workers share the calls."""
    body = {"model": "gpt-4o", "messages": MESSAGES}
    headers = {"X-LLMLab-Key": key, "Authorization": "Bearer sk", "Connection": "close"}
    return httpx.post(f"{url}/chat/completions", json=body, headers=headers, timeout=30).status_code


@pytest.mark.parametrize("backend", BACKENDS)
def test_workers_share_rate_limits_and_hard_budgets_through_redis(
    backend: str, tmp_path: Path, provider: FakeProvider, _engines: dict[str, Engine]
) -> None:
    if REDIS_URL is None:
        pytest.skip("set LLMLAB_TEST_REDIS_URL (CI does) for the several-workers test")
    redis.Redis.from_url(REDIS_URL).ping()
    database = (
        {"LLMLAB_DATABASE_URL": _engines[backend].url.render_as_string(hide_password=False)}
        if backend == "postgresql"
        else {}
    )
    server = start_api_server(
        tmp_path / "app",
        gateway_env(
            provider.url, LLMLAB_REDIS_URL=REDIS_URL, LLMLAB_RATE_LIMIT="12/minute", **database
        ),
        workers=2,
    )
    try:
        limited = sign_up(server.base_url)
        with ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(
                    lambda _: call_on_a_new_connection(limited.openai_url, limited.key), range(20)
                )
            )
        # Each worker alone would have let 12 through.
        assert sorted(codes) == [200] * 12 + [429] * 8

        capped = sign_up(server.base_url)
        answer = capped.api.post(
            "/api/budgets",
            json={"name": "cap", "amount_usd": "0.01", "period": "monthly", "hard_limit": True},
        )
        assert answer.status_code == 201, answer.text
        provider.reset()
        spent = [call_on_a_new_connection(capped.openai_url, capped.key) for _ in range(3)]
        time.sleep(1.5)  # recorded, and past each worker's budget status interval
        refused = [call_on_a_new_connection(capped.openai_url, capped.key) for _ in range(6)]
        assert (spent, refused) == ([200] * 3, [429] * 6)
        assert len(provider.requests) == 3
    finally:
        server.stop()


@pytest.mark.skipif(
    not (PG_BIN / "initdb").exists() or os.geteuid() != 0,
    reason="needs PostgreSQL 15's server binaries and root (to run them as postgres)",
)
def test_calls_go_on_while_the_database_is_down_and_their_events_are_written_once_after(
    tmp_path: Path, provider: FakeProvider
) -> None:
    root = Path(tempfile.mkdtemp(prefix="llmlab-pg-"))
    postgres = PrivatePostgres(root)
    postgres.start()
    server = None
    try:
        data_dir = tmp_path / "app"
        server = start_api_server(
            data_dir, gateway_env(provider.url, LLMLAB_DATABASE_URL=postgres.url)
        )
        account = sign_up(server.base_url)
        stranger = sign_up(server.base_url)
        client = openai.OpenAI(
            api_key="sk",
            base_url=account.openai_url,
            default_headers=account.headers,
            max_retries=0,
        )
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # key now verified
        account.events(1)

        postgres.stop()
        during = [
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES).id for _ in range(3)
        ]
        with pytest.raises(anthropic.InternalServerError) as unknown:
            anthropic.Anthropic(
                api_key="sk",
                base_url=stranger.anthropic_url,
                default_headers=stranger.headers,
                max_retries=0,
            ).messages.create(model="claude-sonnet-4-20250514", max_tokens=5, messages=MESSAGES)
        spool = data_dir / "gateway-spool"
        deadline = time.monotonic() + 15
        while len(list(spool.glob("*.json"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        spooled = len(list(spool.glob("*.json")))
        postgres.start()

        events = account.events(4, timeout=30)
        time.sleep(2.5)  # another drain pass finds nothing more to write
        again = account.events(5, timeout=0)
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)

    assert unknown.value.status_code == 503  # a key never verified cannot be trusted
    assert spooled == 3
    assert len(provider.requests) == 4  # every call reached the provider
    assert [e["event_id"] for e in events[1:]] == [f"openai:{i}" for i in during]
    assert len(again) == 4 and list(spool.glob("*.json")) == []
