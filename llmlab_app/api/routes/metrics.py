"""Prometheus metrics, for the operator's scraper only."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from llmlab_app.errors import AuthenticationFailed, NotFound
from llmlab_app.metrics import render_metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The server's metrics in Prometheus' text format, summed over its workers. Needs
    `Authorization: Bearer <LLMLAB_METRICS_TOKEN>`; answers 404 while that is unset."""
    token: str | None = request.app.state.settings.metrics_token
    if not token:
        raise NotFound("Not Found")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise AuthenticationFailed("metrics need Authorization: Bearer <LLMLAB_METRICS_TOKEN>")
    # With several workers this reads every worker's files: not on the event loop.
    body, content_type = await run_in_threadpool(render_metrics)
    return Response(body, media_type=content_type)
