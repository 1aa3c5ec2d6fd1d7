"""Sending a call on to the provider: one pooled HTTP client per process, and the headers
that may cross the gateway in each direction."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable

import httpx

# Long generations (and reasoning models thinking before their first token) take minutes.
UPSTREAM_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=600.0, pool=30.0)
UPSTREAM_LIMITS = httpx.Limits(
    max_connections=1_000, max_keepalive_connections=200, keepalive_expiry=60.0
)

_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The upstream gets its own Host and length; identity encoding spares decoding every answer
# to read its usage (LLM answers are small next to the round trip).
_NOT_FORWARDED = _HOP_BY_HOP | {b"host", b"content-length", b"accept-encoding", b"expect"}
# The relayed body is decoded and re-framed by our server, which sends its own date and name.
_NOT_RELAYED = _HOP_BY_HOP | {b"content-length", b"content-encoding", b"date", b"server"}
LLMLAB_HEADER_PREFIX = b"x-llmlab-"


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """Headers a `Connection` header names are hop-by-hop too (RFC 9110 §7.6.1)."""
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }


def upstream_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The client's headers as the provider gets them: no hop-by-hop headers and no
    `X-LLMLab-*` header (the LLMLab key included); the provider key passes untouched."""
    dropped = _connection_tokens(raw)
    headers = [
        (name, value)
        for name, value in raw
        if name not in _NOT_FORWARDED
        and name not in dropped
        and not name.startswith(LLMLAB_HEADER_PREFIX)
    ]
    headers.append((b"accept-encoding", b"identity"))
    return headers


def relayed_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The provider's answer headers as the client gets them (request ids, rate limits,
    content type, retry hints...), lower-cased as ASGI wants."""
    dropped = _connection_tokens(raw)
    return [
        (lower, value)
        for name, value in raw
        if (lower := name.lower()) not in _NOT_RELAYED and lower not in dropped
    ]


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def upstream_client() -> httpx.AsyncClient:
    """The process's pooled client (HTTP/1.1 keep-alive), one per event loop: a server has
    one loop; tests that start several get one each."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient(
            timeout=UPSTREAM_TIMEOUT, limits=UPSTREAM_LIMITS, follow_redirects=False
        )
    return client


async def close_upstream_client() -> None:
    """Close this loop's client (server shutdown)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()
