"""The body of `POST /api/events/track`: a batch read in one pass over its bytes.

FastAPI parses a JSON body with `json.loads` (~16k instructions an event of a 1,000-event
batch) before validating the Python objects. The track route's requests instead try
`ingest.validate_batch` on the bytes first (pydantic-core parses and validates together);
whatever it does not accept is parsed and validated as FastAPI always did, so every refusal
reads the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from llmlab_app.services.ingest import EventIn, validate_batch


@dataclass(frozen=True, slots=True)
class ValidatedBatch:
    """A batch body already validated: what the route receives instead of parsed JSON."""

    events: list[EventIn]


class _BatchFirstRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            events = validate_batch(body)
            self._json = json.loads(body) if events is None else ValidatedBatch(events)
        return self._json


class TrackRoute(APIRoute):
    """An `APIRoute` whose requests read a batch body with `validate_batch` first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def batch_first(request: Request) -> Response:
            return await handle(_BatchFirstRequest(request.scope, request.receive))

        return batch_first
