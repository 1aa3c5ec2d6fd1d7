"""The OTLP/HTTP routes: `/v1/traces` stores the model calls among the spans it receives;
`/v1/metrics` and `/v1/logs` take anything and store nothing, so that an exporter pointed at
the base endpoint for all three signals gets no errors.

Answers are OTLP's, in the request's encoding: an `ExportTraceServiceResponse` (with
`partial_success` counting the spans refused and why), or a `google.rpc.Status` with a 4xx or
5xx. The rate limit and body limit are those of `POST /api/events/track`; credentials are an
API key allowed to track (`Authorization: Bearer llmlab_…` or `X-API-Key`), not a login token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from llmlab_app.errors import AppError, AuthenticationFailed
from llmlab_app.otel.decoding import (
    MEDIA_TYPES,
    Encoding,
    PayloadError,
    PayloadTooLarge,
    decode_traces,
    decompressed,
    error_status,
    request_encoding,
    span_records,
    traces_response,
)
from llmlab_app.otel.genai import Mapped, Rejected, Skipped, map_spans
from llmlab_app.otel.recording import record_calls
from llmlab_app.request_body import read_limited_body
from llmlab_app.security import API_KEY_PREFIX
from llmlab_app.services.ingest_keys import tracking_actor, verified_ingest_key
from llmlab_app.services.permissions import Actor

logger = logging.getLogger("llmlab.otel")

# How long an exporter should wait when the database cannot take the spans.
UNAVAILABLE_RETRY_SECONDS = 5
# At most this many refusal reasons are spelled out in `partial_success.error_message`.
MAX_REASONS = 5
# google.rpc.Code of each HTTP status the receiver answers with.
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 415: 3, 422: 3, 429: 8, 503: 14}


async def receive_traces(request: Request) -> Response:
    """`POST /api/otel/v1/traces`: an OTLP `ExportTraceServiceRequest` (protobuf or JSON,
    gzip or not). Each model-call span becomes an event, priced; the other spans are
    accepted and ignored; refused spans are counted in `partial_success`."""
    try:
        encoding = request_encoding(request.headers.get("content-type"))
    except PayloadError as error:
        return _error(error.status_code, error.message, "protobuf")
    try:
        actor, rate_headers = await _caller(request)
        limit: int = request.app.state.settings.max_body_bytes
        body = await read_limited_body(
            request, limit, PayloadTooLarge(f"request body larger than {limit} bytes")
        )
        # Inflating and parsing 512 spans takes milliseconds (a second for OTLP JSON, whose
        # parser is pure Python): not on the event loop.
        mapped = await run_in_threadpool(
            _mapped_spans, body, request.headers.get("content-encoding"), encoding, limit
        )
        recorded = await record_calls(
            request.app.state.engine,
            org_id=actor.org_id,
            api_key_id=actor.api_key_id,
            calls=[call for call in mapped if not isinstance(call, Skipped | Rejected)],
            retention_days=request.app.state.settings.retention_days,
        )
    except PayloadError as error:
        return _error(error.status_code, error.message, encoding)
    except AppError as error:
        return _error(error.status_code, error.message, encoding, error.headers)
    except OperationalError:
        logger.warning("otlp: database unavailable, asking the exporter to retry")
        return _error(
            503,
            "database unavailable, retry shortly",
            encoding,
            {"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
        )
    except Exception:
        # Answered in OTLP's format all the same; not retryable, so not retried forever.
        logger.exception("otlp: failed to ingest an export")
        return _error(500, "LLMLab failed to ingest these spans", encoding)
    reasons = [call.reason for call in mapped if isinstance(call, Rejected)] + recorded.rejected
    return Response(
        traces_response(len(reasons), _summary(reasons), encoding),
        media_type=MEDIA_TYPES[encoding],
        headers=rate_headers,
    )


async def ignore_signal(request: Request) -> Response:
    """`POST /api/otel/v1/metrics` and `/v1/logs`: accepted and dropped unread (LLMLab
    prices spans only), so they take no key either: they store nothing. The answer is the
    empty `Export…ServiceResponse`, the same bytes for both signals."""
    try:
        encoding = request_encoding(request.headers.get("content-type"))
    except PayloadError as error:
        return _error(error.status_code, error.message, "protobuf")
    return Response(traces_response(0, "", encoding), media_type=MEDIA_TYPES[encoding])


def _mapped_spans(
    body: bytes, content_encoding: str | None, encoding: Encoding, max_bytes: int
) -> list[Mapped]:
    payload = decompressed(body, content_encoding, max_bytes=max_bytes)
    return map_spans(list(span_records(decode_traces(payload, encoding))))


async def _caller(request: Request) -> tuple[Actor, dict[str, str]]:
    """The API key acting in its organisation, allowed to track, counted against the API's
    rate limit as `POST /api/events/track` counts it; and the `X-RateLimit-*` headers."""
    secret = request.headers.get("x-api-key")
    if not secret:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        secret = credentials.strip() if scheme.lower() == "bearer" else None
    if not secret or not secret.startswith(API_KEY_PREFIX):
        raise AuthenticationFailed(
            "send an LLMLab API key as Authorization: Bearer llmlab_... "
            "(OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20llmlab_...)"
        )
    state = request.app.state
    found = await verified_ingest_key(state.engine, state.settings, secret)
    headers = await request.app.state.rate_limiter.check("api", f"key:{found.api_key.id}")
    return tracking_actor(found), headers


def _summary(reasons: list[str]) -> str:
    if not reasons:
        return ""
    shown = "; ".join(reasons[:MAX_REASONS])
    more = len(reasons) - MAX_REASONS
    return f"{len(reasons)} span(s) rejected: {shown}" + (f"; and {more} more" if more > 0 else "")


def _error(
    status: int, message: str, encoding: Encoding, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        error_status(_GRPC_CODES.get(status, 2), message, encoding),
        status_code=status,
        media_type=MEDIA_TYPES[encoding],
        headers=dict(headers or {}),
    )
