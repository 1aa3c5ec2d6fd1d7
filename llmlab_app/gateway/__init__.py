"""The gateway: OpenAI- and Anthropic-compatible pass-through that records every call and
enforces hard budgets, for clients in any language (change the base URL, add one header).

Mounted at `GATEWAY_PREFIX` by `api/main.py`; a Starlette app of its own, so neither the
API's JSON envelope nor its 1 MB body limit applies: its errors are in each provider's format
(`errors.py`) and its body limit is `LLMLAB_GATEWAY_MAX_BODY_BYTES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from llmlab_app.config import Settings
from llmlab_app.gateway.errors import GatewayError, error_response
from llmlab_app.gateway.forwarding import close_upstream_client
from llmlab_app.gateway.proxy import Gateway

if TYPE_CHECKING:
    from llmlab_app.api.ratelimit import RateLimiter

GATEWAY_PREFIX = "/gateway"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Recording still under way at shutdown gets this long to finish (or be spooled).
SHUTDOWN_SECONDS = 5.0


def create_gateway_app(settings: Settings, engine: Engine, rate_limiter: RateLimiter) -> Starlette:
    """The gateway's ASGI app, to mount at `GATEWAY_PREFIX`."""
    gateway = Gateway(settings, engine, rate_limiter)

    async def unexpected(request: Request, exc: Exception) -> Response:
        error_format = (
            "anthropic" if request.url.path.startswith(f"{GATEWAY_PREFIX}/anthropic") else "openai"
        )
        return error_response(error_format, GatewayError("LLMLab gateway internal error"))

    app = Starlette(
        routes=[
            Route("/openai/v1/{path:path}", gateway.openai_route, methods=METHODS),
            Route("/anthropic/v1/{path:path}", gateway.anthropic_route, methods=METHODS),
        ],
        exception_handlers={Exception: unexpected},
    )
    app.state.gateway = gateway
    return app


async def stop_gateway(gateway_app: Starlette) -> None:
    """Let this loop's recordings finish and close its upstream connections (shutdown)."""
    gateway: Gateway = gateway_app.state.gateway
    await gateway.recorder.wait(SHUTDOWN_SECONDS)
    await close_upstream_client()


__all__ = ["GATEWAY_PREFIX", "create_gateway_app", "stop_gateway"]
