"""FastAPI dependencies: the database session, the authenticated caller, rate limits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from llmlab_app.api.ratelimit import RateLimiter
from llmlab_app.config import Settings
from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.errors import AuthenticationFailed
from llmlab_app.security import API_KEY_PREFIX
from llmlab_app.services import auth, keys

LAST_USED_RESOLUTION = timedelta(minutes=1)

_bearer = HTTPBearer(auto_error=False, description="JWT access token or `llmlab_…` API key")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Caller:
    user: User
    api_key: ApiKey | None  # None when authenticated with a JWT

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id


def _authenticate(
    session: Session,
    settings: Settings,
    bearer: HTTPAuthorizationCredentials | None,
    header_key: str | None,
    *,
    allow_api_key: bool,
) -> Caller:
    secret = header_key or (bearer.credentials if bearer else None)
    if not secret:
        raise AuthenticationFailed("missing credentials: send Authorization: Bearer <token>")
    if secret.startswith(API_KEY_PREFIX):
        if not allow_api_key:
            raise AuthenticationFailed("this route needs a login token, not an API key")
        user, api_key = auth.user_from_api_key(session, secret)
        now = utcnow()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            keys.touch_key(session, key_id=api_key.id, now=now)
        return Caller(user=user, api_key=api_key)
    return Caller(
        user=auth.user_from_access_token(session, secret, settings=settings), api_key=None
    )


def caller_from_key_or_token(
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> Caller:
    return _authenticate(session, settings, bearer, header_key, allow_api_key=True)


def caller_from_token(
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return _authenticate(session, settings, bearer, None, allow_api_key=False)


def get_rate_limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


async def rate_limited_caller(
    caller: Annotated[Caller, Depends(caller_from_key_or_token)],
    limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    response: Response,
) -> Caller:
    identity = f"key:{caller.api_key.id}" if caller.api_key else f"user:{caller.user_id}"
    response.headers.update(await limiter.check("api", identity))
    return caller


async def rate_limited_token_caller(
    caller: Annotated[Caller, Depends(caller_from_token)],
    limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    response: Response,
) -> Caller:
    response.headers.update(await limiter.check("api", f"user:{caller.user_id}"))
    return caller


async def auth_rate_limit(
    request: Request,
    limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    response: Response,
) -> None:
    """Login and sign-up: limited per client IP against password guessing."""
    client = request.client.host if request.client else "unknown"
    response.headers.update(await limiter.check("auth", client, auth=True))


CurrentCaller = Annotated[Caller, Depends(rate_limited_caller)]
TokenCaller = Annotated[Caller, Depends(rate_limited_token_caller)]
