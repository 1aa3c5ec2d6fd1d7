"""The SDK's exceptions: one small hierarchy, so callers can catch LLMLab problems in one place."""

from __future__ import annotations


class LLMLabError(Exception):
    """Base class for every error raised by the LLMLab SDK."""


class LLMLabAPIError(LLMLabError):
    """The LLMLab server answered with an error (4xx/5xx or ``success: false``)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        retry_after: float | None = None,
        data: object = None,
    ) -> None:
        super().__init__(f"LLMLab API error {status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.retry_after = retry_after
        self.data = data

    @property
    def is_retryable(self) -> bool:
        """True for rate limiting and server-side failures, which are worth trying again."""
        return self.status_code == 429 or self.status_code >= 500


class LLMLabConnectionError(LLMLabError):
    """The LLMLab server could not be reached (refused, DNS failure, timeout, broken connection)."""


class BudgetExceededError(LLMLabError):
    """A hard-limit budget is spent, so the guarded call was not made.

    Raised only when the SDK is configured with ``enforce_budget=True``.
    """

    def __init__(self, budget_name: str, spent_usd: str, amount_usd: str) -> None:
        super().__init__(
            f"budget {budget_name!r} is exceeded (spent ${spent_usd} of ${amount_usd}); "
            "the call was not made"
        )
        self.budget_name = budget_name
        self.spent_usd = spent_usd
        self.amount_usd = amount_usd
