"""The app's error hierarchy. Services raise these; the API maps them to HTTP at the edge."""

from __future__ import annotations


class AppError(Exception):
    """Base class: `status_code` is what the API answers, `message` what the user reads."""

    status_code = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class InvalidInput(AppError):
    status_code = 422


class AddressNotAllowed(InvalidInput):
    """A URL or address the server must not send to on a user's behalf (not public)."""


class AuthenticationFailed(AppError):
    status_code = 401

    def __init__(self, message: str = "not authenticated") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    """Authenticated, but the credential may not do this (an API key without the scope)."""

    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class RateLimited(AppError):
    status_code = 429

    @property
    def retry_after(self) -> int | None:
        """Seconds until a retry may succeed (the `Retry-After` header), when known."""
        value = self.headers.get("Retry-After")
        return int(value) if value and value.isdigit() else None


class DatabaseUnavailable(AppError):
    status_code = 503
