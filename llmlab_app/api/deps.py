"""FastAPI dependencies: the database session, the authenticated caller, rate limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from llmlab_app.api.client_address import client_address
from llmlab_app.api.ratelimit import RateLimiter
from llmlab_app.config import Settings
from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.errors import AuthenticationFailed
from llmlab_app.security import API_KEY_PREFIX, sha256_hex
from llmlab_app.services import auth, keys

# Declared in the OpenAPI schema (`api.openapi_security`); requests are read by `_secret`.
BEARER_SCHEME = HTTPBearer(auto_error=False, description="JWT access token or `llmlab_…` API key")
API_KEY_SCHEME = APIKeyHeader(name="X-API-Key", auto_error=False)


# The dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in
# the thread pool, and each hop there costs more than what these do.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """A session per request. Creating one does no I/O; closing one that used a connection
    hands it back to the pool (a rollback), so that part runs in the thread pool."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Caller:
    user: User
    api_key: ApiKey | None  # None when authenticated with a JWT

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id


def _secret(request: Request) -> str | None:
    """The credentials of a request: `X-API-Key`, else `Authorization: Bearer <secret>`."""
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return (credentials.strip() or None) if scheme.lower() == "bearer" else None


def _authenticate(
    session: Session, settings: Settings, secret: str | None, *, allow_api_key: bool
) -> Caller:
    if not secret:
        raise AuthenticationFailed("missing credentials: send Authorization: Bearer <token>")
    if secret.startswith(API_KEY_PREFIX):
        if not allow_api_key:
            raise AuthenticationFailed("this route needs a login token, not an API key")
        return _caller_from_api_key(session, secret, cache=_may_cache_keys(settings))
    return Caller(
        user=auth.user_from_access_token(session, secret, settings=settings), api_key=None
    )


def _may_cache_keys(settings: Settings) -> bool:
    """Several workers (they share Redis) cannot see each other's revocations in memory, so
    they check every key against the database; one worker caches and forgets exactly."""
    return settings.redis_url is None


def _caller_from_api_key(session: Session, secret: str, *, cache: bool) -> Caller:
    found = auth.verified_key(session, secret, cache=cache)
    return Caller(user=found.user, api_key=found.api_key)


async def _caller(request: Request, *, allow_api_key: bool) -> Caller:
    """An API key verified in the last few seconds (`keys.recent_keys`) is answered here on
    the event loop; anything that needs the database goes to the thread pool with a session
    of its own, so that the hot path (tracking with a known key) opens none."""
    settings: Settings = request.app.state.settings
    secret = _secret(request)
    cacheable = allow_api_key and _may_cache_keys(settings)
    if cacheable and secret and secret.startswith(API_KEY_PREFIX):
        cached = keys.recent_keys.get(sha256_hex(secret))
        if cached is not None and not keys.touch_due(cached, utcnow()):
            return Caller(user=cached.user, api_key=cached.api_key)

    def authenticate() -> Caller:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            return _authenticate(session, settings, secret, allow_api_key=allow_api_key)

    return await run_in_threadpool(authenticate)


async def _count_request(
    request: Request, response: Response, identity: str, *, auth: bool = False
) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    scope = "auth" if auth else "api"
    response.headers.update(await limiter.check(scope, identity, auth=auth))


# Each of these is one dependency that reads the request itself: FastAPI resolves every
# dependency of the tree on every request (~20 us each), and tracking pays it per event.


async def rate_limited_caller(request: Request, response: Response) -> Caller:
    """The caller by API key or login token, counted against its rate limit."""
    caller = await _caller(request, allow_api_key=True)
    identity = f"key:{caller.api_key.id}" if caller.api_key else f"user:{caller.user_id}"
    await _count_request(request, response, identity)
    return caller


async def rate_limited_token_caller(request: Request, response: Response) -> Caller:
    """The caller by login token only (managing API keys), counted against its rate limit."""
    caller = await _caller(request, allow_api_key=False)
    await _count_request(request, response, f"user:{caller.user_id}")
    return caller


async def auth_rate_limit(request: Request, response: Response) -> None:
    """Login and sign-up: limited per client IP against password guessing."""
    await _count_request(request, response, client_address(request), auth=True)


CurrentCaller = Annotated[Caller, Depends(rate_limited_caller)]
TokenCaller = Annotated[Caller, Depends(rate_limited_token_caller)]
