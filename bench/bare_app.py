"""The baseline for bench/ingest.py: FastAPI validating the same track body, storing nothing.

    uvicorn bare_app:app   (with bench/ on PYTHONPATH)

Same body model as POST /api/events/track (one `EventIn` or an `EventBatch`), same envelope
shape, no auth, no database: what the framework costs by itself under the same server.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, FastAPI

from llmlab_app.api.envelope import now_iso
from llmlab_app.api.schemas import EventBatch
from llmlab_app.services.ingest import EventIn

app = FastAPI(title="bare track endpoint")


@app.post("/api/events/track")
async def track(body: Annotated[EventIn | EventBatch, Body()]) -> dict:
    """Validate and answer; nothing is stored."""
    batch = body.events if isinstance(body, EventBatch) else [body]
    return {
        "success": True,
        "data": {"events": [{"event_id": e.event_id, "duplicate": False} for e in batch]},
        "error": None,
        "timestamp": now_iso(),
    }
