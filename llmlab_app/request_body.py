"""A request body read whole with a size limit, for the mounted apps that answer in their own
format and so are exempt from the API's body-limit middleware (`api/body_limit.py`): the
gateway and the OTLP receiver."""

from __future__ import annotations

from starlette.requests import Request


async def read_limited_body(request: Request, max_bytes: int, too_large: Exception) -> bytes:
    """The whole body; `too_large` (in the caller's answer format) past `max_bytes`, declared
    or counted."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
