"""The gateway: `/gateway/openai/v1/{path}` and `/gateway/anthropic/v1/{path}` forward a
call to the provider unchanged and relay its answer as it comes, after checking the LLMLab
key, the rate limit and the hard budgets; each call of a known endpoint is then recorded
as a cost event read from the provider's own answer."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from llmlab_app.config import Settings
from llmlab_app.errors import RateLimited
from llmlab_app.gateway.budget_guard import BudgetGuard
from llmlab_app.gateway.callers import LLMLAB_KEY_HEADER, gateway_caller
from llmlab_app.gateway.errors import (
    BodyTooLarge,
    GatewayError,
    InvalidAttribution,
    RateLimitExceeded,
    UpstreamUnreachable,
    error_response,
)
from llmlab_app.gateway.forwarding import relayed_headers, upstream_client, upstream_headers
from llmlab_app.gateway.recording import Attribution, CallRecorder, GatewayCall
from llmlab_app.gateway.spool import EventSpool, spool_directory
from llmlab_app.gateway.usage import (
    AnthropicStreamReader,
    ChatStreamReader,
    Flavor,
    ReadUsage,
    ResponsesStreamReader,
    SSEFrames,
    StreamReader,
    parse_frame,
    read_answer,
)
from llmlab_app.request_body import read_limited_body
from llmlab_app.services.ingest import EventIn

if TYPE_CHECKING:
    from llmlab_app.api.ratelimit import RateLimiter

logger = logging.getLogger("llmlab.gateway")

Provider = Literal["openai", "anthropic"]


@dataclass(frozen=True)
class Endpoint:
    """A provider endpoint whose calls are recorded, and how to read its answers."""

    flavor: Flavor
    stream_reader: type[ChatStreamReader | ResponsesStreamReader | AnthropicStreamReader]
    # Chat streams report usage only when asked (`stream_options.include_usage`).
    asks_for_stream_usage: bool = False


OPENAI_ENDPOINTS: Mapping[str, Endpoint] = {
    "chat/completions": Endpoint("chat", ChatStreamReader, asks_for_stream_usage=True),
    "completions": Endpoint("chat", ChatStreamReader, asks_for_stream_usage=True),
    "responses": Endpoint("responses", ResponsesStreamReader),
    "embeddings": Endpoint("embeddings", ChatStreamReader),
}
ANTHROPIC_ENDPOINTS: Mapping[str, Endpoint] = {
    "messages": Endpoint("anthropic", AnthropicStreamReader),
}


@dataclass(frozen=True)
class Upstream:
    provider: Provider
    base_url: str
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)

    def url(self, path: str, query: bytes) -> str:
        url = f"{self.base_url.rstrip('/')}/{path}"
        return f"{url}?{query.decode('latin-1')}" if query else url


_ATTRIBUTION_HEADERS = {
    "project": "X-LLMLab-Project",
    "tags": "X-LLMLab-Tags",
    "end_user": "X-LLMLab-User",
}


def read_attribution(headers: Headers) -> Attribution:
    """Project, tags (comma-separated) and end user from the `X-LLMLab-*` headers, held to
    the same rules as the fields of a tracked event."""
    project = headers.get("x-llmlab-project")
    end_user = headers.get("x-llmlab-user")
    tags = [tag.strip() for tag in headers.get("x-llmlab-tags", "").split(",") if tag.strip()]
    if project is None and end_user is None and not tags:
        return Attribution()
    try:
        checked = EventIn.model_validate(
            {"model": "-", "project": project, "end_user": end_user, "tags": tags}
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        header = _ATTRIBUTION_HEADERS.get(str(error["loc"][0]), "X-LLMLab-*")
        raise InvalidAttribution(f"{header}: {error['msg']}") from exc
    return Attribution(checked.project, checked.tags, checked.end_user)


@dataclass(frozen=True)
class CallBody:
    content: bytes
    model: str | None = None
    hide_usage_chunk: bool = False


def prepare_body(endpoint: Endpoint, content: bytes) -> CallBody:
    """The body to forward and what it says: the model, and for a chat stream whose client
    did not ask for usage, `stream_options.include_usage` added (its extra chunk is then
    hidden from that client)."""
    try:
        payload = json.loads(content)
    except ValueError:
        return CallBody(content)  # the provider will say what is wrong with it
    if not isinstance(payload, dict):
        return CallBody(content)
    model = payload.get("model") if isinstance(payload.get("model"), str) else None
    if endpoint.asks_for_stream_usage and payload.get("stream") is True:
        options = payload.get("stream_options")
        options = options if isinstance(options, dict) else {}
        if options.get("include_usage") is not True:
            payload["stream_options"] = {**options, "include_usage": True}
            content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            return CallBody(content, model, hide_usage_chunk=True)
    return CallBody(content, model)


class Gateway:
    """The request handling of both routes; one per app."""

    def __init__(self, settings: Settings, engine: Engine, rate_limiter: RateLimiter) -> None:
        self.settings = settings
        self.engine = engine
        self.rate_limiter = rate_limiter
        self.budgets = BudgetGuard(engine)
        self.recorder = CallRecorder(engine, EventSpool(spool_directory(settings)), self.budgets)
        self.openai = Upstream("openai", settings.gateway_openai_url, OPENAI_ENDPOINTS)
        self.anthropic = Upstream("anthropic", settings.gateway_anthropic_url, ANTHROPIC_ENDPOINTS)

    async def openai_route(self, request: Request) -> Response:
        """OpenAI-compatible pass-through: `OpenAI(base_url=".../gateway/openai/v1")`."""
        return await self.forward(request, self.openai)

    async def anthropic_route(self, request: Request) -> Response:
        """Anthropic pass-through: `Anthropic(base_url=".../gateway/anthropic")`."""
        return await self.forward(request, self.anthropic)

    async def forward(self, request: Request, upstream: Upstream) -> Response:
        """Check the caller, then send the call on and relay the answer; a call to a known
        endpoint is recorded once its answer has been read (or its stream has ended)."""
        started, started_at = time.perf_counter(), datetime.now(UTC)
        path: str = request.path_params["path"]
        endpoint = upstream.endpoints.get(path) if request.method == "POST" else None
        try:
            caller = await gateway_caller(
                self.engine, self.settings, request.headers.get(LLMLAB_KEY_HEADER)
            )
            await self._count(caller.api_key_id)
            attribution = read_attribution(request.headers)
            limit = self.settings.gateway_max_body_bytes
            content = await read_limited_body(
                request,
                limit,
                BodyTooLarge(
                    f"request body larger than {limit} bytes (LLMLAB_GATEWAY_MAX_BODY_BYTES)"
                ),
            )
            body = prepare_body(endpoint, content) if endpoint else CallBody(content)
            await self.budgets.check(caller.org_id, attribution.project)
        except GatewayError as error:
            return error_response(upstream.provider, error)
        call = (
            GatewayCall(
                provider=upstream.provider,
                path=path,
                sender=caller,
                attribution=attribution,
                requested_model=body.model,
                started_at=started_at,
                started=started,
            )
            if endpoint
            else None
        )
        client = upstream_client()
        try:
            answer = await client.send(
                client.build_request(
                    request.method,
                    upstream.url(path, request.scope.get("query_string", b"")),
                    headers=upstream_headers(request.headers.raw),
                    content=body.content or None,
                ),
                stream=True,
            )
        except httpx.HTTPError as exc:
            return self._unreachable(upstream, call, exc)
        headers = relayed_headers(answer.headers.raw)
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            reader = endpoint.stream_reader(body.hide_usage_chunk) if endpoint else None
            stream = StreamingResponse(
                self._relay(answer, reader, call, body.hide_usage_chunk),
                status_code=answer.status_code,
            )
            stream.raw_headers = headers
            return stream
        try:
            content = await answer.aread()
        except httpx.HTTPError as exc:
            return self._unreachable(upstream, call, exc)
        finally:
            await answer.aclose()
        if call is not None and endpoint is not None:
            ended = time.perf_counter()
            self.recorder.record(
                call.sender,
                partial(_answer_event, call, endpoint, answer.status_code, content, ended),
            )
        relayed = Response(content, status_code=answer.status_code)
        relayed.raw_headers = [*headers, (b"content-length", str(len(content)).encode())]
        return relayed

    async def _count(self, identity: uuid.UUID) -> None:
        try:
            await self.rate_limiter.check(
                "gateway", f"key:{identity}", limit=self.rate_limiter.gateway_limit
            )
        except RateLimited as exc:
            raise RateLimitExceeded(exc.message, headers=exc.headers) from exc

    def _unreachable(
        self, upstream: Upstream, call: GatewayCall | None, exc: httpx.HTTPError
    ) -> Response:
        host = urlsplit(upstream.base_url).netloc
        if call is not None:
            event = call.event(ReadUsage(), http_status=502, ended=time.perf_counter())
            self.recorder.record(call.sender, event)
        logger.warning("gateway: %s unreachable (%s)", host, type(exc).__name__)
        error = UpstreamUnreachable(
            f"LLMLab gateway could not reach the provider at {host} ({type(exc).__name__})"
        )
        return error_response(upstream.provider, error)

    async def _relay(
        self,
        answer: httpx.Response,
        reader: StreamReader | None,
        call: GatewayCall | None,
        hide_frames: bool,
    ) -> AsyncIterator[bytes]:
        """The answer's bytes as they come, read frame by frame on the way. Whatever ends
        the stream (its end, the provider failing, the client leaving), the call is
        recorded with the usage reported so far."""
        frames = SSEFrames()
        outcome = "client_disconnected"
        try:
            async for chunk in answer.aiter_bytes():
                if reader is None:
                    yield chunk
                    continue
                kept = [frame for frame in frames.feed(chunk) if reader.keep(*parse_frame(frame))]
                if not hide_frames:
                    yield chunk
                elif kept:
                    yield b"".join(kept)
            if hide_frames and (rest := frames.rest()):
                yield rest
            outcome = "completed"
        except httpx.HTTPError:
            outcome = "upstream_failed"
            raise
        finally:
            # No awaiting here: on a client disconnect this task is being cancelled.
            if call is None or reader is None:
                self.recorder.close_later(answer)
            else:
                extra: dict[str, Any] = {} if outcome == "completed" else {"stream": outcome}
                event = call.event(
                    reader.found,
                    http_status=answer.status_code,
                    ended=time.perf_counter(),
                    failed=outcome == "upstream_failed",
                    **extra,
                )
                self.recorder.record(call.sender, event, close=answer)


def _answer_event(
    call: GatewayCall, endpoint: Endpoint, status: int, content: bytes, ended: float
) -> EventIn:
    """The event of a whole (not streamed) answer, read once it has gone to the client."""
    found = read_answer(endpoint.flavor, content) if 200 <= status < 300 else ReadUsage()
    return call.event(found, http_status=status, ended=ended)
