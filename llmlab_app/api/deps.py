"""FastAPI dependencies: the database session, the authenticated caller and its scope,
rate limits, the sign-in limits and the client's address."""

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
from llmlab_app.db.models import ApiKey, utcnow
from llmlab_app.errors import AuthenticationFailed, Forbidden
from llmlab_app.security import API_KEY_PREFIX, sha256_hex
from llmlab_app.services import auth, keys
from llmlab_app.services.sessions import ActiveSession
from llmlab_app.services.sign_in_limits import SignInLimits

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
    user_id: uuid.UUID
    api_key: ApiKey | None  # None when authenticated with an access token
    session: ActiveSession | None  # the sign-in session an access token names

    def may(self, scope: str) -> bool:
        """Signed-in users may do everything; an API key what its scopes grant."""
        return self.api_key is None or keys.grants(self.api_key.scopes, scope)


async def get_sign_in_limits(request: Request) -> SignInLimits:
    return request.app.state.sign_in_limits


async def get_client_address(request: Request) -> str:
    return client_address(request)


SignInLimitsDep = Annotated[SignInLimits, Depends(get_sign_in_limits)]
ClientAddress = Annotated[str, Depends(get_client_address)]


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
    signed_in = auth.session_from_access_token(session, secret, settings=settings)
    return Caller(user_id=signed_in.user_id, api_key=None, session=signed_in)


def _may_cache_keys(settings: Settings) -> bool:
    """Several workers (they share Redis) cannot see each other's revocations in memory, so
    they check every key against the database; one worker caches and forgets exactly."""
    return settings.redis_url is None


def _caller_from_api_key(session: Session, secret: str, *, cache: bool) -> Caller:
    found = auth.verified_key(session, secret, cache=cache)
    return Caller(user_id=found.user.id, api_key=found.api_key, session=None)


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
            return Caller(user_id=cached.user.id, api_key=cached.api_key, session=None)

    def authenticate() -> Caller:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            return _authenticate(session, settings, secret, allow_api_key=allow_api_key)

    return await run_in_threadpool(authenticate)


async def _count_request(request: Request, response: Response, identity: str) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    response.headers.update(await limiter.check("api", identity))


async def _scoped_caller(request: Request, response: Response, scope: str) -> Caller:
    caller = await _caller(request, allow_api_key=True)
    identity = f"key:{caller.api_key.id}" if caller.api_key else f"user:{caller.user_id}"
    await _count_request(request, response, identity)
    if not caller.may(scope):
        assert caller.api_key is not None
        raise Forbidden(
            f"this API key lacks the {scope!r} scope this route needs "
            f"(it has: {', '.join(caller.api_key.scopes)})"
        )
    return caller


# Each of these is one dependency that reads the request itself: FastAPI resolves every
# dependency of the tree on every request (~20 us each), and tracking pays it per event.
# `api/openapi.py` declares each one's credentials and scope in the schema.


async def ingest_caller(request: Request, response: Response) -> Caller:
    """The caller by login token or an API key with the `ingest` scope (or more)."""
    return await _scoped_caller(request, response, "ingest")


async def read_caller(request: Request, response: Response) -> Caller:
    """The caller by login token or an API key with the `read` scope (or more)."""
    return await _scoped_caller(request, response, "read")


async def admin_caller(request: Request, response: Response) -> Caller:
    """The caller by login token or an API key with the `admin` scope."""
    return await _scoped_caller(request, response, "admin")


async def rate_limited_token_caller(request: Request, response: Response) -> Caller:
    """The caller by login token only (API keys, passwords): never an API key."""
    caller = await _caller(request, allow_api_key=False)
    await _count_request(request, response, f"user:{caller.user_id}")
    return caller


IngestCaller = Annotated[Caller, Depends(ingest_caller)]
ReadCaller = Annotated[Caller, Depends(read_caller)]
AdminCaller = Annotated[Caller, Depends(admin_caller)]
TokenCaller = Annotated[Caller, Depends(rate_limited_token_caller)]
