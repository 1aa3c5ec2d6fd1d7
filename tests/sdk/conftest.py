"""Fixtures for SDK tests: a local ingest stub, a fake LLM provider, and a configured SDK."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import llmlab_sdk

from .fake_provider import FakeProvider
from .ingest_stub import IngestStub
from .real_app import RealApp

# Short enough to keep retries fast, long enough to be real backoff.
FAST_SENDING: dict[str, Any] = {
    "flush_interval_ms": 20,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
    "request_timeout": 5.0,
    "flush_at_exit_timeout": 5.0,
}


@pytest.fixture(autouse=True)
def llmlab_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own LLMLab folder, so the SDK's default spool never touches the
    real ``~/.llmlab`` (subprocesses inherit it through the environment)."""
    home = tmp_path_factory.mktemp("llmlab-home")
    monkeypatch.setenv("LLMLAB_HOME", str(home))
    for name in ("LLMLAB_SPOOL", "LLMLAB_SPOOL_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def ingest() -> Iterator[IngestStub]:
    stub = IngestStub()
    yield stub
    stub.stop()


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.stop()


@pytest.fixture
def configure_sdk(ingest: IngestStub) -> Iterator[Callable[..., llmlab_sdk.SDKConfig]]:
    """Configure the SDK against the ingest stub (fast retries); shut it down afterwards."""

    def configure(**overrides: Any) -> llmlab_sdk.SDKConfig:
        settings = {
            "api_key": ingest.state.api_key,
            "base_url": ingest.url,
            **FAST_SENDING,
            **overrides,
        }
        return llmlab_sdk.configure(**settings)

    yield configure
    llmlab_sdk.shutdown(timeout=2.0)


@pytest.fixture
def sdk(configure_sdk: Callable[..., llmlab_sdk.SDKConfig]) -> llmlab_sdk.SDKConfig:
    return configure_sdk()


@pytest.fixture(scope="session")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealApp]:
    """The real LLMLab API under uvicorn, shared by the end-to-end tests of this session."""
    app = RealApp(tmp_path_factory.mktemp("llmlab-app"))
    yield app
    app.stop()


@pytest.fixture
def api_account(real_app: RealApp) -> Iterator[dict[str, Any]]:
    """A fresh user signed up through the API: its key, tokens and a logged-in client."""
    client = llmlab_sdk.LLMLabClient(real_app.url)
    email = f"sdk-{uuid.uuid4().hex[:12]}@example.com"
    signed_up = client.signup(email, "correct horse battery")
    client.api_key = signed_up["api_key"]["key"]
    client.access_token = signed_up["access_token"]
    yield {"email": email, "password": "correct horse battery", "client": client, **signed_up}
    client.close()
