"""OTLP ingest as exporters meet it: the real API under uvicorn (SQLite, and PostgreSQL when
`LLMLAB_TEST_DATABASE_URL` is set), the local fake provider for the instrumented clients, and
the real OpenTelemetry SDK, each test with a tracer provider of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy import Engine

from tests.conftest import BACKENDS
from tests.gateway.conftest import GatewayAccount, sign_up
from tests.live_server import LiveServer, start_api_server
from tests.sdk.fake_provider import FakeProvider


@pytest.fixture(scope="session")
def fake_provider() -> Iterator[FakeProvider]:
    server = FakeProvider()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def otlp_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _engines: dict[str, Engine],
) -> Iterator[LiveServer]:
    """`uvicorn llmlab_app.api:app`, the receiver at /api/otel."""
    env = {"LLMLAB_RATE_LIMIT": "1000000/minute", "LLMLAB_AUTH_RATE_LIMIT": "1000000/minute"}
    if request.param == "postgresql":
        # The test database, already emptied and migrated for this session by `_engines`.
        env["LLMLAB_DATABASE_URL"] = _engines["postgresql"].url.render_as_string(
            hide_password=False
        )
    server = start_api_server(tmp_path_factory.mktemp(f"otlp-{request.param}"), env)
    yield server
    server.stop()


@pytest.fixture
def live_account(otlp_server: LiveServer) -> Iterator[GatewayAccount]:
    """A user signed up through the API; `account.api` reads its events with its key."""
    signed_up = sign_up(otlp_server.base_url)
    yield signed_up
    signed_up.api.close()


@pytest.fixture
def tracer_provider(live_account: GatewayAccount) -> Iterator[TracerProvider]:
    """The SDK exporting to the receiver with the account's key, in batches as in production
    (protobuf, gzip); shut down (flushed) after the test."""
    exporter = OTLPSpanExporter(
        endpoint=f"{live_account.base_url}/api/otel/v1/traces",
        headers={"Authorization": f"Bearer {live_account.key}"},
        compression=None,
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    yield provider
    provider.shutdown()
