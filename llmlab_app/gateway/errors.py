"""What the gateway itself answers when it refuses or fails a call, in the provider's own
error format, so that the official clients raise their typed errors
(`openai.RateLimitError`, `anthropic.AuthenticationError`, ...)."""

from __future__ import annotations

import json
from typing import Literal

from starlette.responses import Response

ErrorFormat = Literal["openai", "anthropic"]


class GatewayError(Exception):
    """A call the gateway answers itself. `openai` and `anthropic` are the error's `type`
    (and OpenAI's `code`) in each provider's vocabulary."""

    status_code = 500
    openai: tuple[str, str | None] = ("server_error", None)
    anthropic = "api_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class InvalidAttribution(GatewayError):
    status_code = 400
    openai = ("invalid_request_error", "invalid_llmlab_header")
    anthropic = "invalid_request_error"


class BadLLMLabKey(GatewayError):
    status_code = 401
    openai = ("invalid_request_error", "invalid_llmlab_key")
    anthropic = "authentication_error"


class KeyLacksScope(GatewayError):
    status_code = 403
    openai = ("invalid_request_error", "insufficient_llmlab_scope")
    anthropic = "permission_error"


class BodyTooLarge(GatewayError):
    status_code = 413
    openai = ("invalid_request_error", "request_too_large")
    anthropic = "request_too_large"


class RateLimitExceeded(GatewayError):
    status_code = 429
    openai = ("requests", "rate_limit_exceeded")
    anthropic = "rate_limit_error"


class BudgetExhausted(GatewayError):
    status_code = 429
    openai = ("insufficient_quota", "llmlab_budget_exhausted")
    anthropic = "rate_limit_error"


class UpstreamUnreachable(GatewayError):
    status_code = 502
    openai = ("server_error", "upstream_unreachable")


class LLMLabUnavailable(GatewayError):
    status_code = 503
    openai = ("server_error", "llmlab_unavailable")


def error_response(error_format: ErrorFormat, error: GatewayError) -> Response:
    """`error` as the provider would word it: OpenAI's `{"error": {message, type, param,
    code}}` or Anthropic's `{"type": "error", "error": {type, message}}`."""
    if error_format == "openai":
        kind, code = error.openai
        body: dict[str, object] = {
            "error": {"message": error.message, "type": kind, "param": None, "code": code}
        }
    else:
        body = {"type": "error", "error": {"type": error.anthropic, "message": error.message}}
    return Response(
        json.dumps(body),
        status_code=error.status_code,
        headers=error.headers,
        media_type="application/json",
    )
