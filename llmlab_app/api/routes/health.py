"""Liveness and database check."""

from __future__ import annotations

import os
from importlib.metadata import version

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.schemas import HealthOut
from llmlab_app.db.engine import check_database

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Envelope[HealthOut])
def health(request: Request):  # type: ignore[no-untyped-def]
    """200 when the app and its database answer; 503 (same shape) when the database is down."""
    database_ok = check_database(request.app.state.engine)
    body = ok(
        HealthOut(
            status="ok" if database_ok else "degraded",
            database="ok" if database_ok else "unavailable",
            version=version("llmlab"),
            worker_pid=os.getpid(),
        )
    )
    if database_ok:
        return body
    return JSONResponse(body.model_dump(mode="json"), status_code=503)
