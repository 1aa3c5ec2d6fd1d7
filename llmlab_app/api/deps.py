"""FastAPI dependencies: the database session, the authenticated caller, the organisation it
acts in (with the permission a route needs), rate limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from llmlab_app.api.client_address import client_address
from llmlab_app.api.ratelimit import RateLimiter
from llmlab_app.config import Settings
from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.errors import AuthenticationFailed, NotFound
from llmlab_app.security import API_KEY_PREFIX, sha256_hex
from llmlab_app.services import auth, keys, orgs
from llmlab_app.services.permissions import Actor, Permission, require

LAST_USED_RESOLUTION = timedelta(minutes=1)

# Declared in the OpenAPI schema (`api.openapi_security`); requests are read by `_secret`.
BEARER_SCHEME = HTTPBearer(auto_error=False, description="JWT access token or `llmlab_…` API key")
API_KEY_SCHEME = APIKeyHeader(name="X-API-Key", auto_error=False)
# Which organisation a signed-in request acts in (default: the user's personal one). An API
# key belongs to one organisation and needs no header.
ORG_HEADER = "X-LLMLab-Org"


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
    # Set when the request acts in an organisation: the key's, or the one it names.
    actor: Actor | None = None

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
    session: Session,
    settings: Settings,
    secret: str | None,
    *,
    allow_api_key: bool,
    org: OrgChoice,
) -> Caller:
    if not secret:
        raise AuthenticationFailed("missing credentials: send Authorization: Bearer <token>")
    if secret.startswith(API_KEY_PREFIX):
        if not allow_api_key:
            raise AuthenticationFailed("this route needs a login token, not an API key")
        return _caller_from_api_key(session, secret, cache=_may_cache_keys(settings), org=org)
    user = auth.user_from_access_token(session, secret, settings=settings)
    if not org.wanted:
        return Caller(user=user, api_key=None)
    actor = orgs.actor_for(session, user=user, org_id=org.org_id())
    return Caller(user=user, api_key=None, actor=actor)


@dataclass(frozen=True)
class OrgChoice:
    """Which organisation a request names: `wanted` when the route acts in one; `named`
    from the path (`/api/orgs/{org_id}/…`) or the `X-LLMLab-Org` header, None for the
    default (the key's, or the user's personal organisation)."""

    wanted: bool
    named: str | None = None

    def org_id(self) -> uuid.UUID | None:
        """Read after authenticating: an unauthenticated request is a 401 whatever it names."""
        if not self.named:
            return None
        try:
            return uuid.UUID(self.named)
        except ValueError:
            # Not an id of any organisation, so of none the caller belongs to.
            raise NotFound(orgs.NOT_FOUND) from None


NO_ORG = OrgChoice(wanted=False)


def _org_choice(request: Request, *, wanted: bool) -> OrgChoice:
    if not wanted:
        return NO_ORG
    named = request.path_params.get("org_id") or request.headers.get(ORG_HEADER.lower())
    return OrgChoice(wanted=True, named=str(named) if named else None)


def _key_actor(cached: keys.CachedKey, org: OrgChoice) -> Actor:
    """The key acting in its organisation with its creator's role; another one is not
    the key's to see."""
    key = cached.api_key
    named = org.org_id()
    if named is not None and named != key.org_id:
        raise NotFound(orgs.NOT_FOUND)
    assert key.user_id is not None  # a key whose creator is gone does not authenticate
    return Actor(
        user_id=key.user_id,
        org_id=key.org_id,
        role=cached.role,
        api_key_id=key.id,
        email=cached.user.email,
    )


def _may_cache_keys(settings: Settings) -> bool:
    """Several workers (they share Redis) cannot see each other's revocations in memory, so
    they check every key against the database; one worker caches and forgets exactly."""
    return settings.redis_url is None


def _caller_from_api_key(session: Session, secret: str, *, cache: bool, org: OrgChoice) -> Caller:
    key_hash = sha256_hex(secret)
    found = keys.recent_keys.get(key_hash) if cache else None
    if found is None:
        generation = keys.recent_keys.generation
        user, api_key, role = auth.user_from_api_key(session, secret)
        if cache:
            # Detached so the cached snapshot outlives this session (and its rollbacks).
            session.expunge(user)
            session.expunge(api_key)
            found = keys.recent_keys.put(key_hash, user, api_key, role, generation=generation)
        else:
            found = keys.CachedKey(user, api_key, role, 0.0, api_key.last_used_at)
    now = utcnow()
    if _touch_due(found, now):
        found.last_used_at = now
        keys.touch_key(session, key_id=found.api_key.id, now=now)
    actor = _key_actor(found, org) if org.wanted else None
    return Caller(user=found.user, api_key=found.api_key, actor=actor)


def _touch_due(cached: keys.CachedKey, now: datetime) -> bool:
    return cached.last_used_at is None or now - cached.last_used_at > LAST_USED_RESOLUTION


async def _caller(request: Request, *, allow_api_key: bool, org: bool = False) -> Caller:
    """An API key verified in the last few seconds (`keys.recent_keys`) is answered here on
    the event loop; anything that needs the database goes to the thread pool with a session
    of its own, so that the hot path (tracking with a known key) opens none."""
    settings: Settings = request.app.state.settings
    secret = _secret(request)
    choice = _org_choice(request, wanted=org)
    cacheable = allow_api_key and _may_cache_keys(settings)
    if cacheable and secret and secret.startswith(API_KEY_PREFIX):
        cached = keys.recent_keys.get(sha256_hex(secret))
        if cached is not None and not _touch_due(cached, utcnow()):
            actor = _key_actor(cached, choice) if org else None
            return Caller(user=cached.user, api_key=cached.api_key, actor=actor)

    def authenticate() -> Caller:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            return _authenticate(session, settings, secret, allow_api_key=allow_api_key, org=choice)

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


def acting(
    permission: Permission, *, token_only: bool = False
) -> Callable[[Request, Response], Awaitable[Actor]]:
    """The dependency of a route that acts in an organisation and needs `permission`: the
    caller (API key, or login token with `X-LLMLab-Org` / the org id in the path) as an
    `Actor`, counted against its rate limit. 404 for an organisation the caller is not a
    member of, 403 naming the permission when its role (or key) lacks it."""

    async def acting_caller(request: Request, response: Response) -> Actor:
        caller = await _caller(request, allow_api_key=not token_only, org=True)
        identity = f"key:{caller.api_key.id}" if caller.api_key else f"user:{caller.user_id}"
        await _count_request(request, response, identity)
        assert caller.actor is not None
        require(caller.actor, permission)
        return caller.actor

    # Read by `api.openapi` (the credentials and permission the route declares) and by the
    # isolation test (tests/api/test_permissions_matrix.py).
    marks: Any = acting_caller
    marks.permission = permission
    marks.token_only = token_only
    return acting_caller


CurrentCaller = Annotated[Caller, Depends(rate_limited_caller)]
TokenCaller = Annotated[Caller, Depends(rate_limited_token_caller)]

# What a route that acts in an organisation declares (one per permission it needs).
Reader = Annotated[Actor, Depends(acting(Permission.READ))]
Tracker = Annotated[Actor, Depends(acting(Permission.TRACK))]
KeyCreator = Annotated[Actor, Depends(acting(Permission.CREATE_KEYS, token_only=True))]
KeyReader = Annotated[Actor, Depends(acting(Permission.READ, token_only=True))]
BudgetManager = Annotated[Actor, Depends(acting(Permission.MANAGE_BUDGETS))]
PriceManager = Annotated[Actor, Depends(acting(Permission.MANAGE_PRICES))]
WebhookManager = Annotated[Actor, Depends(acting(Permission.MANAGE_WEBHOOKS, token_only=True))]
MemberManager = Annotated[Actor, Depends(acting(Permission.MANAGE_MEMBERS))]
AuditReader = Annotated[Actor, Depends(acting(Permission.READ_AUDIT))]
OrgManager = Annotated[Actor, Depends(acting(Permission.MANAGE_ORGANISATION))]
