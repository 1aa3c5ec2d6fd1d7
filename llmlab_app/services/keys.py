"""API keys: created with a secret shown once, listed, revoked. Only SHA-256 hashes are stored.

Each key has scopes, each including the ones before it: `ingest` (track events, read budget
status for the SDK's guard), `read` (also spend, events, CSV, budgets, alerts,
recommendations, projects, price overrides) and `admin` (every route that takes keys).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.errors import InvalidInput
from llmlab_app.security import new_api_key
from llmlab_app.services.sessions import ActiveSession, require_recent_sign_in

Scope = Literal["ingest", "read", "admin"]
# In rank order: a scope grants itself and every scope before it.
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")
DEFAULT_SCOPES: tuple[Scope, ...] = ("admin",)

# How long a worker may keep trusting a key it looked up. A revocation takes effect at once in
# the process that revoked (its cache entry is dropped); with several workers (Redis) nothing
# is cached, so it holds at once everywhere.
KEY_CACHE_SECONDS = 5.0
# A key's `last_used_at` is written at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str


def grants(scopes: Iterable[str], needed: str) -> bool:
    """Whether a key with `scopes` may do what needs `needed`."""
    rank = SCOPES.index(needed)  # type: ignore[arg-type]
    return any(scope in SCOPES and SCOPES.index(scope) >= rank for scope in scopes)  # type: ignore[arg-type]


def normalize_scopes(scopes: Iterable[str] | None) -> list[str]:
    """Known scopes in rank order without repeats; `DEFAULT_SCOPES` when none are given."""
    wanted = list(DEFAULT_SCOPES if scopes is None else scopes)
    if unknown := [scope for scope in wanted if scope not in SCOPES]:
        raise InvalidInput(f"scopes: unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}")
    if not wanted:
        raise InvalidInput(f"scopes: give at least one of {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in wanted]


def create_key(
    session: Session,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: Iterable[str] | None = None,
    commit: bool = True,
) -> CreatedKey:
    """A new key (`admin` unless `scopes` say otherwise); its secret is in the result only."""
    secret, prefix, key_hash = new_api_key()
    key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scopes=normalize_scopes(scopes),
    )
    session.add(key)
    if commit:
        session.commit()
    else:
        session.flush()
    return CreatedKey(key=key, secret=secret)


def create_key_for_session(
    session: Session, *, signed_in: ActiveSession, name: str, scopes: Iterable[str] | None
) -> CreatedKey:
    """Create a key for the user of a sign-in session, which must be recent: a stolen
    session (or a forgotten open tab) cannot mint a credential that outlives it."""
    require_recent_sign_in(signed_in)
    return create_key(session, user_id=signed_in.user_id, name=name, scopes=scopes)


def list_keys(session: Session, *, user_id: uuid.UUID) -> list[ApiKey]:
    """Active keys, newest first."""
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.created_at).desc())
        )
    )


def revoke_key(session: Session, *, user_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """False when the key is not this user's or already revoked."""
    revoked = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    session.commit()
    recent_keys.forget(key_id)
    return revoked == 1


def touch_key(session: Session, *, key_id: uuid.UUID, now: datetime) -> None:
    """Record use; callers throttle this so a hot key is not written on every request."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    session.commit()


@dataclass
class CachedKey:
    user: User
    api_key: ApiKey
    expires: float
    last_used_at: datetime | None


class KeyCache:
    """Recently verified API keys by the SHA-256 hash of their secret, for a few seconds.

    Authenticating a key is otherwise a database round trip on every request. Only keys that
    were found and active are kept (an unknown key always goes to the database, so a new key
    works at once), entries expire after `ttl_seconds`, and `forget` drops a revoked key.
    A lookup that began before a `forget` is not cached (`generation`), so a read racing with
    the revocation cannot put the key back. The cached `User` and `ApiKey` are detached
    snapshots: read them, never add them to a session.
    """

    def __init__(self, ttl_seconds: float = KEY_CACHE_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self.generation = 0
        self._entries: dict[str, CachedKey] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> CachedKey | None:
        entry = self._entries.get(key_hash)
        if entry is None or entry.expires < time.monotonic():
            return None
        return entry

    def verified_within(self, key_hash: str, seconds: float) -> CachedKey | None:
        """A key verified at most `seconds` ago even if its entry has expired: what the
        gateway trusts while the database cannot be reached (a revoked key is forgotten)."""
        entry = self._entries.get(key_hash)
        if entry is None or entry.expires - self.ttl_seconds < time.monotonic() - seconds:
            return None
        return entry

    def put(self, key_hash: str, user: User, api_key: ApiKey, *, generation: int) -> CachedKey:
        """Cache a key found active by a lookup that began at `generation`."""
        entry = CachedKey(user, api_key, time.monotonic() + self.ttl_seconds, api_key.last_used_at)
        with self._lock:
            if generation != self.generation:
                return entry  # a key was revoked meanwhile: use the answer, don't keep it
            if len(self._entries) > 10_000:
                now = time.monotonic()
                self._entries = {h: e for h, e in self._entries.items() if e.expires >= now}
            self._entries[key_hash] = entry
        return entry

    def forget(self, key_id: uuid.UUID) -> None:
        with self._lock:
            self.generation += 1
            self._entries = {h: e for h, e in self._entries.items() if e.api_key.id != key_id}

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries = {}


recent_keys = KeyCache()


def touch_due(cached: CachedKey, now: datetime) -> bool:
    """Whether the key's use should be recorded again (`LAST_USED_RESOLUTION`)."""
    return cached.last_used_at is None or now - cached.last_used_at > LAST_USED_RESOLUTION
