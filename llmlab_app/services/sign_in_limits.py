"""How many times anyone may try to sign in: the limits every door shares (REST API and
dashboard both call the auth service, which counts here).

Two counts, in the `limits` storage the request limits use (memory, or Redis so that several
workers share them):
- attempts per client address (sign-in, sign-up, refresh, password change):
  `LLMLAB_AUTH_RATE_LIMIT`;
- failed passwords per email, whether or not an account has that email, so the answer never
  tells which emails exist: after `FAILURES_PER_EMAIL` in `FAILURE_WINDOW_MINUTES`, every
  attempt for that email is refused with 429 until the oldest failure leaves the window,
  even one with the right password (a guesser cannot tell when it found it).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItemPerMinute, parse
from limits.strategies import MovingWindowRateLimiter

from llmlab_app.config import Settings, get_settings
from llmlab_app.errors import InvalidInput, RateLimited
from llmlab_app.limit_storage import sync_limit_storage
from llmlab_app.security import sha256_hex

FAILURES_PER_EMAIL = 10
FAILURE_WINDOW_MINUTES = 15


class SignInLimits:
    """The counts of one deployment. Its methods block (Redis): call them off the event loop,
    as the auth service's callers do."""

    def __init__(self, settings: Settings) -> None:
        try:
            self.attempts_per_address = parse(settings.auth_rate_limit)
        except ValueError as exc:
            raise InvalidInput(f"invalid auth rate limit setting: {exc}") from exc
        self.failures_per_email = RateLimitItemPerMinute(FAILURES_PER_EMAIL, FAILURE_WINDOW_MINUTES)
        self._limiter = MovingWindowRateLimiter(sync_limit_storage(settings))

    def count_attempt(self, address: str) -> None:
        """Count one attempt from `address`; `RateLimited` past the per-address limit."""
        item = self.attempts_per_address
        if not self._limiter.hit(item, "auth-address", address):
            retry_after = self._retry_after(item, "auth-address", address)
            raise RateLimited(
                f"too many attempts from this address; retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )

    def refuse_if_locked(self, email: str) -> None:
        """`RateLimited` while `email` has had too many failed passwords recently."""
        key = _email_key(email)
        item = self.failures_per_email
        if not self._limiter.test(item, "auth-email", key):
            retry_after = self._retry_after(item, "auth-email", key)
            minutes = math.ceil(retry_after / 60)
            raise RateLimited(
                f"too many failed sign-ins for this email; try again in {minutes} minute"
                + ("s" if minutes != 1 else ""),
                headers={"Retry-After": str(retry_after)},
            )

    def record_failure(self, email: str) -> None:
        """Count a wrong password for `email` (an unknown email counts the same)."""
        self._limiter.hit(self.failures_per_email, "auth-email", _email_key(email))

    def _retry_after(self, item: object, *identifiers: str) -> int:
        reset_at, _ = self._limiter.get_window_stats(item, *identifiers)  # type: ignore[arg-type]
        return max(1, math.ceil(reset_at - time.time()))


def _email_key(email: str) -> str:
    # Hashed: the counters (in Redis, say) need not list who tried to sign in.
    return sha256_hex(email.strip().lower())


@lru_cache(maxsize=1)
def process_sign_in_limits() -> SignInLimits:
    """The limits of this process's app (`get_settings()`): the REST API mounted in the
    dashboard and the dashboard's own forms count in the same place."""
    return SignInLimits(get_settings())
