"""The baseline for bench/gateway.py: a bare pass-through proxy with the gateway's HTTP client
(one pooled `httpx.AsyncClient`, streaming relayed chunk by chunk), and nothing else: no key,
no budget, no usage reading, no recording.

    BARE_PROXY_UPSTREAM=http://127.0.0.1:PORT uvicorn bare_proxy:app   (bench/ on PYTHONPATH)
"""

from __future__ import annotations

import os

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

UPSTREAM = os.environ["BARE_PROXY_UPSTREAM"]
_DROPPED = {b"host", b"content-length", b"connection", b"transfer-encoding", b"accept-encoding"}
_client = httpx.AsyncClient(
    timeout=600, limits=httpx.Limits(max_connections=1_000, max_keepalive_connections=200)
)


async def proxy(request: Request) -> Response:
    headers = [(k, v) for k, v in request.headers.raw if k not in _DROPPED]
    outgoing = _client.build_request(
        request.method,
        f"{UPSTREAM}/{request.path_params['path']}",
        headers=headers,
        content=await request.body(),
    )
    answer = await _client.send(outgoing, stream=True)
    relayed = [
        (k.lower(), v)
        for k, v in answer.headers.raw
        if k.lower()
        not in {b"content-length", b"transfer-encoding", b"connection", b"date", b"server"}
    ]
    if answer.headers.get("content-type", "").startswith("text/event-stream"):

        async def chunks():  # type: ignore[no-untyped-def]
            try:
                async for chunk in answer.aiter_bytes():
                    yield chunk
            finally:
                await answer.aclose()

        stream = StreamingResponse(chunks(), status_code=answer.status_code)
        stream.raw_headers = relayed
        return stream
    content = await answer.aread()
    await answer.aclose()
    response = Response(content, status_code=answer.status_code)
    response.raw_headers = [*relayed, (b"content-length", str(len(content)).encode())]
    return response


app = Starlette(routes=[Route("/v1/{path:path}", proxy, methods=["GET", "POST"])])
