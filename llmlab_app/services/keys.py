"""API keys: created with a secret shown once, listed, revoked. Only SHA-256 hashes are stored."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.security import new_api_key

# How long a worker may keep trusting a key it looked up. A revocation takes effect at once in
# the process that revoked (its cache entry is dropped); other workers stop accepting the key at
# most this many seconds later (access tokens, for comparison, cannot be revoked at all).
KEY_CACHE_SECONDS = 5.0
# A key's `last_used_at` is written at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str


def create_key(
    session: Session, *, user_id: uuid.UUID, name: str, commit: bool = True
) -> CreatedKey:
    secret, prefix, key_hash = new_api_key()
    key = ApiKey(user_id=user_id, name=name, prefix=prefix, key_hash=key_hash)
    session.add(key)
    if commit:
        session.commit()
    else:
        session.flush()
    return CreatedKey(key=key, secret=secret)


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
