"""Readiness: can this server take traffic (database, Redis, schema at head)?"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from llmlab_app.api.envelope import Envelope, now_iso, ok
from llmlab_app.api.schemas import ReadyOut
from llmlab_app.services.readiness import check_readiness

router = APIRouter(tags=["health"])


@router.get(
    "/ready",
    response_model=Envelope[ReadyOut],
    responses={503: {"model": Envelope[ReadyOut], "description": "Not ready; `error` says why"}},
)
def ready(request: Request):  # type: ignore[no-untyped-def]
    """200 when the database and Redis (if configured) answer and the schema is at the
    code's revision; 503 otherwise, `error` naming what is not ready. For load balancers
    and orchestrators; `/health` stays the liveness check."""
    readiness = check_readiness(request.app.state.engine, request.app.state.settings)
    data = ReadyOut(ready=readiness.ready, **asdict(readiness))
    if readiness.ready:
        return ok(data)
    body = Envelope[ReadyOut](
        success=False,
        data=data,
        error="not ready: " + "; ".join(readiness.problems()),
        timestamp=now_iso(),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=503)
