"""The SDK against a real server that goes away for 30 s, and against one that answers 500 and
429 at random (and sometimes loses its answer after storing): every event arrives exactly
once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

import llmlab_sdk
from tests.live_server import LiveServer, free_port, start_api_server

OUTAGE_SECONDS = 30


def _usage_response(i: int) -> dict:
    return {"model": "gpt-4o-mini", "usage": {"prompt_tokens": 100 + i, "completion_tokens": 7}}


@llmlab_sdk.track_cost(project="faults")
def fake_llm_call(i: int) -> dict:
    return _usage_response(i)


def _signup(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/signup", json={"email": "sdk@example.com", "password": "long enough"}
    )
    return response.json()["data"]["api_key"]["key"]


def _stored_calls(base_url: str, key: str) -> int:
    summary = httpx.get(f"{base_url}/api/costs/summary", headers={"X-API-Key": key}).json()
    return summary["data"]["calls"]


@pytest.fixture
def sdk_shutdown(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    # The SDK spools to the LLMLab folder by default: never the real ~/.llmlab in a test.
    monkeypatch.setenv("LLMLAB_HOME", str(tmp_path_factory.mktemp("llmlab-home")))
    yield
    llmlab_sdk.shutdown(timeout=5)


def _server(data_dir: Path, port: int) -> LiveServer:
    return start_api_server(data_dir, {"LLMLAB_RATE_LIMIT": "100000/minute"}, port=port)


@pytest.mark.slow
def test_events_survive_a_30_second_server_outage(tmp_path, sdk_shutdown):
    port = free_port()
    server = _server(tmp_path, port)
    try:
        key = _signup(server.base_url)
        llmlab_sdk.configure(
            api_key=key,
            base_url=server.base_url,
            flush_interval_ms=50,
            batch_size=50,
            backoff_initial=0.2,
            backoff_max=2.0,
        )
        for i in range(100):
            fake_llm_call(i)
        assert llmlab_sdk.flush(timeout=30)
        server.stop()
        for i in range(100, 250):  # the caller never notices the outage
            fake_llm_call(i)
        time.sleep(OUTAGE_SECONDS)
        server = _server(tmp_path, port)
        for i in range(250, 300):
            fake_llm_call(i)
        assert llmlab_sdk.flush(timeout=60)
        stats = llmlab_sdk.stats()
        assert stats["dropped"] == 0 and stats["retries"] > 0
        assert _stored_calls(server.base_url, key) == 300
    finally:
        server.stop()


class _FlakyProxy(BaseHTTPRequestHandler):
    """Forwards to the real server, but answers 500 or 429 at random, and sometimes stores
    the batch and then answers 500 anyway (the answer lost on the way back)."""

    upstream = ""
    rng = random.Random(7)
    lock = threading.Lock()
    counts: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        with self.lock:
            roll = self.rng.random()
        if roll < 0.25:
            self._answer(500, b'{"success": false}', "refused_500")
        elif roll < 0.4:
            self._answer(429, b'{"success": false}', "refused_429", {"Retry-After": "0"})
        elif roll < 0.5:
            self._forward(lose_answer=True)
        else:
            self._forward()

    def _answer(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, lose_answer: bool = False) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}
        }
        upstream = httpx.request(
            self.command, self.upstream + self.path, content=body, headers=headers
        )
        if lose_answer:
            self._answer(500, b'{"success": false}', "lost_answer")
            return
        self._answer(upstream.status_code, upstream.content, "forwarded")


@pytest.mark.slow
def test_random_500s_429s_and_lost_answers_still_store_every_event_once(tmp_path, sdk_shutdown):
    server = _server(tmp_path, free_port())
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyProxy)
    _FlakyProxy.upstream = server.base_url
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        key = _signup(server.base_url)
        llmlab_sdk.configure(
            api_key=key,
            base_url=f"http://127.0.0.1:{proxy.server_port}",
            flush_interval_ms=20,
            batch_size=20,
            backoff_initial=0.01,
            backoff_max=0.05,
        )
        for i in range(500):
            fake_llm_call(i)
        assert llmlab_sdk.flush(timeout=60)
        assert _stored_calls(server.base_url, key) == 500
        counts = _FlakyProxy.counts
        assert counts.get("refused_500", 0) > 0 and counts.get("refused_429", 0) > 0
        assert counts.get("lost_answer", 0) > 0
        assert llmlab_sdk.stats()["dropped"] == 0
    finally:
        proxy.shutdown()
        server.stop()
