"""OpenTelemetry ingest: an OTLP/HTTP receiver whose model-call spans (GenAI semantic
conventions, OpenLLMetry, OpenInference) become priced events, for services in any language.

Mounted at `OTEL_PREFIX` by `api/main.py`, so an exporter's
`OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:PORT/api/otel` reaches `/api/otel/v1/traces`. A
Starlette app of its own: it answers in OTLP's messages, not the API's JSON envelope, and
applies the body limit itself (to the decompressed body too). `decoding.py` reads and writes
OTLP, `genai.py` maps spans (pure), `recording.py` hands the calls to ingest, `receiver.py`
holds the routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Route

from llmlab_app.config import Settings
from llmlab_app.otel.receiver import ignore_signal, receive_traces

if TYPE_CHECKING:
    from llmlab_app.api.ratelimit import RateLimiter

OTEL_PREFIX = "/api/otel"
OTEL_TRACES_PATH = "/v1/traces"


def create_otel_app(settings: Settings, engine: Engine, rate_limiter: RateLimiter) -> Starlette:
    """The receiver's ASGI app, to mount at `OTEL_PREFIX`; it shares the API's settings,
    engine and rate limiter (its routes authenticate through the API's own dependency)."""
    app = Starlette(
        routes=[
            Route(OTEL_TRACES_PATH, receive_traces, methods=["POST"]),
            Route("/v1/metrics", ignore_signal, methods=["POST"]),
            Route("/v1/logs", ignore_signal, methods=["POST"]),
        ]
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.rate_limiter = rate_limiter
    return app


__all__ = ["OTEL_PREFIX", "OTEL_TRACES_PATH", "create_otel_app"]
