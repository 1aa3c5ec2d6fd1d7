"""Metrics of the tracking routes (`POST /api/events/track`, the OTLP receiver's traces),
measured around them: latency and refusals by source and reason."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from llmlab_app.metrics import EVENTS_REJECTED, INGEST_LATENCY

TRACK_PATH = "/api/events/track"
SOURCE = "api"
# Fixed reasons (low-cardinality labels), from the status code of the refusal.
REASONS = {
    400: "invalid",
    401: "unauthenticated",
    403: "unauthenticated",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


class _SourceMetrics:
    def __init__(self, source: str) -> None:
        self.latency = INGEST_LATENCY.labels(source=source)
        self.rejected = {
            reason: EVENTS_REJECTED.labels(source=source, reason=reason)
            for reason in {*REASONS.values(), "other", "error"}
        }


def refusal_reason(status: int) -> str:
    """The `reason` label of a refused tracking request."""
    return REASONS.get(status) or ("error" if status >= 500 else "other")


class TrackMetrics:
    """Pure ASGI, so it costs the tracking hot path two clock reads and two metric updates
    (a few microseconds), and every other route one dictionary lookup. `sources` maps each
    tracking path to its `source` label."""

    def __init__(self, app: Any, sources: Mapping[str, str]) -> None:
        self.app = app
        self.sources = {path: _SourceMetrics(source) for path, source in sources.items()}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        metrics = self.sources.get(scope["path"]) if scope["type"] == "http" else None
        if metrics is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def send_noting_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            metrics.latency.observe(time.perf_counter() - started)
            if status >= 400:
                metrics.rejected[refusal_reason(status)].inc()
