"""The JSON envelope every response wears, errors included."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from llmlab_app.errors import AppError

T = TypeVar("T")
logger = logging.getLogger("llmlab.api")


class Envelope(BaseModel, Generic[T]):
    success: bool
    data: T | None = None
    error: str | None = None
    timestamp: str


class ErrorEnvelope(BaseModel):
    """What every failed request answers."""

    success: Literal[False]
    data: None = None
    error: str
    timestamp: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Malformed request body (not decodable)",
        401: "Missing, invalid, expired or revoked credentials",
        403: "Not allowed: `error` names the permission your role lacks, or the scope your "
        "API key lacks",
        404: "Not found (or not yours; an organisation you are not a member of)",
        409: "Already exists",
        413: "Request body too large",
        422: "Invalid input; `error` names the field",
        429: "Rate limit exceeded; see Retry-After",
        500: "Unexpected error",
        503: "Database unavailable",
    }.items()
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ok(data: T) -> Envelope[T]:
    return Envelope[T](success=True, data=data, error=None, timestamp=now_iso())


def error_response(
    status_code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"success": False, "data": None, "error": message, "timestamp": now_iso()}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def validation_message(errors: list[dict[str, Any]], body: Any = None) -> str:
    """'events[3].input_tokens: Input should be greater than or equal to 0' for the first
    error, counting only the branch of a union that the body meant."""
    batch = isinstance(body, dict) and "events" in body
    chosen = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc[:1] == ("body",):
            loc = loc[1:]
        if loc[:1] in (("EventIn",), ("EventBatch",)):
            if (loc[0] == "EventBatch") != batch:
                continue
            loc = loc[1:]
        chosen.append((loc, error.get("msg", "invalid value")))
    if not chosen:
        chosen = [(tuple(errors[0].get("loc", ())), errors[0].get("msg", "invalid value"))]
    loc, msg = chosen[0]
    msg = msg.removeprefix("Value error, ")
    where = _location(loc)
    extra = f" (and {len(chosen) - 1} more)" if len(chosen) > 1 else ""
    return f"{where}: {msg}{extra}" if where else f"{msg}{extra}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(list(exc.errors()), exc.body))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database_down(_: Request, exc: OperationalError) -> JSONResponse:
        logger.warning("database unavailable: %s", exc.orig)
        return error_response(503, "database unavailable, try again shortly", {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal server error")
