"""Which web origins may open the dashboard's event socket. One setting,
`LLMLAB_CORS_ORIGINS`, governs the REST API (`api/main.py`), the dashboard's routes
(`rxconfig.py`) and this socket (`llmlab_app.py`). Default: the app's own origin only.

Browsers enforce CORS for HTTP requests, so for those it is enough that nobody answers
another origin's preflight. A WebSocket is not covered by CORS: the server has to check the
`Origin` of the handshake itself, which the dashboard's socket.io server does with
`socket_origin_allowed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from llmlab_app.config import Settings


def same_origins(environ: Mapping[str, Any]) -> set[str]:
    """The origins a page served by this app has, for the host the request was sent to
    (behind a proxy, also the host it forwarded)."""
    hosts = {str(environ.get(name, "")).lower() for name in ("HTTP_HOST", "HTTP_X_FORWARDED_HOST")}
    return {
        f"{scheme}://{host.split(',')[0].strip()}"
        for host in hosts
        if host
        for scheme in ("http", "https")
    }


def socket_origin_allowed(settings: Settings) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """A check for python-engineio's `cors_allowed_origins`: the handshake's `Origin` must be
    the app's own (the host it was sent to, or `LLMLAB_PUBLIC_URL`) or in
    `LLMLAB_CORS_ORIGINS`."""
    listed = set(settings.cors_origins)
    if settings.public_origin:
        listed.add(settings.public_origin)

    def allowed(origin: str | None, environ: Mapping[str, Any]) -> bool:
        if not origin:
            return False
        origin = origin.rstrip("/").lower()
        return origin in listed or origin in same_origins(environ)

    return allowed


def restrict_socket_origins(sio: Any, settings: Settings) -> None:
    """Make Reflex's socket.io server check the `Origin` of every handshake.

    Reflex hands `rx.Config.cors_allowed_origins` to python-engineio as a list, and engineio
    reads an empty list as "no origin check at all", so the default (same origin only) cannot
    be said through the config; engineio takes a callable instead, set here on the server
    Reflex built."""
    sio.eio.cors_allowed_origins = socket_origin_allowed(settings)
