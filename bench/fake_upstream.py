"""The upstream for bench/gateway.py: a raw ASGI app answering OpenAI Chat Completions with a
canned answer (JSON, or an SSE stream when the body asks for one), a new id per call.

    uvicorn fake_upstream:app   (with bench/ on PYTHONPATH)

No framework, so that it stays faster than the proxies measured in front of it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

_numbers = itertools.count(1)
USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 300,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 1024},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def _answer(number: int) -> bytes:
    return json.dumps(
        {
            "id": f"chatcmpl-bench-{number}",
            "object": "chat.completion",
            "created": 1_764_000_000,
            "model": "gpt-4o-2024-08-06",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello there, how can I help?"},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    ).encode()


def _frames(number: int, include_usage: bool) -> list[bytes]:
    def chunk(choices: list[Any], usage: Any = None) -> bytes:
        data = {
            "id": f"chatcmpl-bench-{number}",
            "object": "chat.completion.chunk",
            "created": 1_764_000_000,
            "model": "gpt-4o-2024-08-06",
            "choices": choices,
            "usage": usage,
        }
        return b"data: " + json.dumps(data).encode() + b"\n\n"

    frames = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": word}}])
        for word in ("Hello", " there,", " how", " can", " I", " help?")
    ]
    if include_usage:
        frames.append(chunk([], USAGE))
    frames.append(b"data: [DONE]\n\n")
    return frames


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    number = next(_numbers)
    if b'"stream":true' in body.replace(b" ", b""):
        include_usage = b'"include_usage":true' in body.replace(b" ", b"")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for frame in _frames(number, include_usage):
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    answer = _answer(number)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(answer)).encode()),
                (b"x-request-id", f"req_{number}".encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer})
