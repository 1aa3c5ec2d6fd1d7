"""Per-key and per-IP request limits with the `limits` library (memory, or Redis for
several workers)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from llmlab_app.config import Settings
from llmlab_app.errors import InvalidInput, RateLimited


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        try:
            self.default_limit = parse(settings.rate_limit)
            self.auth_limit = parse(settings.auth_rate_limit)
        except ValueError as exc:
            raise InvalidInput(f"invalid rate limit setting: {exc}") from exc
        if settings.redis_url:
            url = "async+" + settings.redis_url.removeprefix("async+")
            storage = storage_from_string(url, implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = MovingWindowRateLimiter(storage)

    async def check(self, scope: str, identity: str, *, auth: bool = False) -> dict[str, str]:
        """Count one request; raise `RateLimited` (429) past the limit. Returns the
        X-RateLimit-* headers to send."""
        item = self.auth_limit if auth else self.default_limit
        allowed = await self._limiter.hit(item, scope, identity)
        reset_at, remaining = await self._limiter.get_window_stats(item, scope, identity)
        headers = {
            "X-RateLimit-Limit": str(item.amount),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
        }
        if not allowed:
            retry_after = max(1, math.ceil(reset_at - time.time()))
            raise RateLimited(
                f"rate limit of {item} exceeded; retry in {retry_after} s",
                headers=headers | {"Retry-After": str(retry_after)},
            )
        return headers
