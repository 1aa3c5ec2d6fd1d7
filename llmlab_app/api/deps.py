"""FastAPI dependencies: the database session, the authenticated caller, the organisation it
acts in with the permission a route needs (and, for an API key, the scope), rate limits, the
sign-in limits and the client's address."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from llmlab_app.api.client_address import client_address
from llmlab_app.api.ratelimit import RateLimiter
from llmlab_app.config import Settings
from llmlab_app.db.models import ApiKey, utcnow
from llmlab_app.errors import AuthenticationFailed, Forbidden, NotFound
from llmlab_app.security import API_KEY_PREFIX, sha256_hex
from llmlab_app.services import auth, keys, orgs
from llmlab_app.services.permissions import (
    Actor,
    Permission,
    require,
    scope_for,
)
from llmlab_app.services.sessions import ActiveSession
from llmlab_app.services.sign_in_limits import SignInLimits

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
    user_id: uuid.UUID
    api_key: ApiKey | None  # None when authenticated with an access token
    session: ActiveSession | None  # the sign-in session an access token names
    # Set when the request acts in an organisation with a login token.
    actor: Actor | None = None
    # The key as looked up (with its creator's role), to act in its organisation with.
    found_key: keys.CachedKey | None = None

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
        return _caller_from_api_key(session, secret, cache=_may_cache_keys(settings))
    signed_in = auth.session_from_access_token(session, secret, settings=settings)
    actor = (
        orgs.actor_for_user_id(session, user_id=signed_in.user_id, org_id=org.org_id())
        if org.wanted
        else None
    )
    return Caller(user_id=signed_in.user_id, api_key=None, session=signed_in, actor=actor)


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
    """The key acting in its organisation (`keys.key_actor`); another organisation is not
    the key's to see."""
    named = org.org_id()
    if named is not None and named != cached.api_key.org_id:
        raise NotFound(orgs.NOT_FOUND)
    return keys.key_actor(cached)


def _may_cache_keys(settings: Settings) -> bool:
    """Several workers (they share Redis) cannot see each other's revocations in memory, so
    they check every key against the database; one worker caches and forgets exactly."""
    return settings.redis_url is None


def _caller_from_api_key(session: Session, secret: str, *, cache: bool) -> Caller:
    found = auth.verified_key(session, secret, cache=cache)
    return Caller(user_id=found.user.id, api_key=found.api_key, session=None, found_key=found)


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
        if cached is not None and not keys.touch_due(cached, utcnow()):
            return Caller(
                user_id=cached.user.id, api_key=cached.api_key, session=None, found_key=cached
            )

    def authenticate() -> Caller:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            return _authenticate(session, settings, secret, allow_api_key=allow_api_key, org=choice)

    return await run_in_threadpool(authenticate)


async def _count_request(request: Request, response: Response, identity: str) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    response.headers.update(await limiter.check("api", identity))


async def _scoped_caller(
    request: Request, response: Response, scope: str, *, org: bool = False
) -> Caller:
    caller = await _caller(request, allow_api_key=True, org=org)
    identity = f"key:{caller.api_key.id}" if caller.api_key else f"user:{caller.user_id}"
    await _count_request(request, response, identity)
    if not caller.may(scope):
        assert caller.api_key is not None
        raise Forbidden(
            f"this API key lacks the {scope!r} scope this route needs "
            f"(it has: {', '.join(caller.api_key.scopes)})"
        )
    if org and caller.found_key is not None:
        # After the scope check: a key lacking the scope is told so whatever it names.
        actor = _key_actor(caller.found_key, _org_choice(request, wanted=True))
        return replace(caller, actor=actor)
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


def acting(
    permission: Permission, *, token_only: bool = False
) -> Callable[[Request, Response], Awaitable[Actor]]:
    """The dependency of a route that acts in an organisation and needs `permission`: the
    caller (an API key, in its own organisation; or a login token, in the organisation of
    `X-LLMLab-Org` or the path, else the personal one) as an `Actor`, counted against its
    rate limit. 404 for an organisation the caller is not a member of; 403 naming what is
    missing when an API key lacks the scope (`scope_for(permission)`) or the role (narrowed
    by the key's scopes) lacks the permission."""
    scope = scope_for(permission)

    async def acting_caller(request: Request, response: Response) -> Actor:
        if token_only:
            caller = await _caller(request, allow_api_key=False, org=True)
            await _count_request(request, response, f"user:{caller.user_id}")
        else:
            caller = await _scoped_caller(request, response, scope, org=True)
        assert caller.actor is not None
        require(caller.actor, permission)
        return caller.actor

    # Read by `api.openapi` (the credentials, scope and permission the route declares) and by
    # the isolation test (tests/api/test_permissions_matrix.py).
    marks: Any = acting_caller
    marks.permission = permission
    marks.scope = scope
    marks.token_only = token_only
    return acting_caller


@dataclass(frozen=True)
class SignedInActor:
    """An actor signed in with a login token, and that sign-in session."""

    actor: Actor
    session: ActiveSession


def signed_in_acting(
    permission: Permission,
) -> Callable[[Request, Response], Awaitable[SignedInActor]]:
    """`acting(permission, token_only=True)` for routes that also need the sign-in session
    (creating a key needs a recent sign-in)."""

    async def signed_in_caller(request: Request, response: Response) -> SignedInActor:
        caller = await _caller(request, allow_api_key=False, org=True)
        await _count_request(request, response, f"user:{caller.user_id}")
        assert caller.actor is not None and caller.session is not None
        require(caller.actor, permission)
        return SignedInActor(caller.actor, caller.session)

    marks: Any = signed_in_caller
    marks.permission = permission
    marks.scope = scope_for(permission)
    marks.token_only = True
    return signed_in_caller


IngestCaller = Annotated[Caller, Depends(ingest_caller)]
ReadCaller = Annotated[Caller, Depends(read_caller)]
AdminCaller = Annotated[Caller, Depends(admin_caller)]
TokenCaller = Annotated[Caller, Depends(rate_limited_token_caller)]

# What a route that acts in an organisation declares (one per permission it needs).
BudgetReader = Annotated[Actor, Depends(acting(Permission.READ_BUDGETS))]
Reader = Annotated[Actor, Depends(acting(Permission.READ))]
Tracker = Annotated[Actor, Depends(acting(Permission.TRACK))]
KeyCreator = Annotated[SignedInActor, Depends(signed_in_acting(Permission.CREATE_KEYS))]
KeyRevoker = Annotated[Actor, Depends(acting(Permission.CREATE_KEYS, token_only=True))]
KeyReader = Annotated[Actor, Depends(acting(Permission.READ, token_only=True))]
BudgetManager = Annotated[Actor, Depends(acting(Permission.MANAGE_BUDGETS))]
PriceManager = Annotated[Actor, Depends(acting(Permission.MANAGE_PRICES))]
WebhookManager = Annotated[Actor, Depends(acting(Permission.MANAGE_WEBHOOKS, token_only=True))]
# Webhook delivery logs show the receivers' URLs (Slack's hold a secret): not for every reader.
DeliveryReader = Annotated[Actor, Depends(acting(Permission.MANAGE_WEBHOOKS))]
MemberManager = Annotated[Actor, Depends(acting(Permission.MANAGE_MEMBERS))]
AuditReader = Annotated[Actor, Depends(acting(Permission.READ_AUDIT))]
OrgManager = Annotated[Actor, Depends(acting(Permission.MANAGE_ORGANISATION))]
