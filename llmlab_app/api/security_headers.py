"""Security headers on every HTTP answer: the API's and, since Reflex mounts its pages and
socket inside the API app, the dashboard's."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llmlab_app.config import Settings

# Two years, as the HSTS preload list asks; only sent when the public URL is https.
HSTS_SECONDS = 63_072_000


def security_headers(settings: Settings) -> dict[str, str]:
    """The headers added to every answer (an answer's own value for one of them wins)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        # No page of ours is meant to be framed (clickjacking): the CSP directive for current
        # browsers, X-Frame-Options for older ones.
        "Content-Security-Policy": "frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
    }
    if settings.public_url and settings.public_url.lower().startswith("https://"):
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
    return headers


class SecurityHeaders:
    """Pure ASGI middleware (not `BaseHTTPMiddleware`: that one would buffer streamed CSV
    exports and cost a task per request on the tracking hot path)."""

    def __init__(self, app: ASGIApp, *, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = list(headers.items())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
