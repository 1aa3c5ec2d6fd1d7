"""API keys: created with a secret shown once, listed, revoked. Only SHA-256 hashes are stored.

A key belongs to one organisation and acts with the role its creator has there: demoting the
creator narrows what the key may do at once, and removing them revokes it."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.security import new_api_key
from llmlab_app.services import audit
from llmlab_app.services.permissions import Actor, Permission, Role, require

# How long a worker may keep trusting a key it looked up. A revocation takes effect at once in
# the process that revoked (its cache entry is dropped); other workers stop accepting the key at
# most this many seconds later (access tokens, for comparison, cannot be revoked at all).
KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str


def create_key(session: Session, *, actor: Actor, name: str, commit: bool = True) -> CreatedKey:
    """A key of the actor's organisation, acting with the actor's role there."""
    require(actor, Permission.CREATE_KEYS)
    secret, prefix, key_hash = new_api_key()
    key = ApiKey(
        org_id=actor.org_id, user_id=actor.user_id, name=name, prefix=prefix, key_hash=key_hash
    )
    session.add(key)
    session.flush()
    audit.record(session, actor=actor, action="key.created", target=name, details=_about(key))
    if commit:
        session.commit()
    return CreatedKey(key=key, secret=secret)


@dataclass(frozen=True)
class KeyRecord:
    key: ApiKey
    created_by_email: str | None


def list_keys(session: Session, *, org_id: uuid.UUID) -> list[KeyRecord]:
    """The organisation's active keys with who created them, newest first."""
    rows = session.exec(
        select(ApiKey, User.email)
        .join(User, col(User.id) == ApiKey.user_id, isouter=True)
        .where(ApiKey.org_id == org_id, col(ApiKey.revoked_at).is_(None))
        .order_by(col(ApiKey.created_at).desc())
    ).all()
    return [KeyRecord(key, email) for key, email in rows]


def revoke_key(session: Session, *, actor: Actor, key_id: uuid.UUID) -> bool:
    """False when the key is not the organisation's or already revoked. Revoking one's own
    key needs `create_keys`; someone else's, `manage_keys`."""
    key = session.get(ApiKey, key_id)
    if key is None or key.org_id != actor.org_id or key.revoked_at is not None:
        return False
    require(
        actor,
        Permission.CREATE_KEYS if key.user_id == actor.user_id else Permission.MANAGE_KEYS,
    )
    revoked = session.execute(
        update(ApiKey)
        .where(col(ApiKey.id) == key_id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    if revoked == 1:
        audit.record(
            session, actor=actor, action="key.revoked", target=key.name, details=_about(key)
        )
    session.commit()
    recent_keys.forget(key_id)
    return revoked == 1


def revoke_keys_of_member(session: Session, *, org_id: uuid.UUID, user_id: uuid.UUID) -> int:
    """Revoke the keys `user_id` created in the organisation (in the caller's transaction;
    the caller commits, then calls `recent_keys.clear()`). Returns how many."""
    return session.execute(
        update(ApiKey)
        .where(
            col(ApiKey.org_id) == org_id,
            col(ApiKey.user_id) == user_id,
            col(ApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    ).rowcount


def _about(key: ApiKey) -> dict[str, str]:
    return {"key_id": str(key.id), "prefix": key.prefix}


def touch_key(session: Session, *, key_id: uuid.UUID, now: datetime) -> None:
    """Record use; callers throttle this so a hot key is not written on every request."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    session.commit()


@dataclass
class CachedKey:
    user: User
    api_key: ApiKey
    role: Role  # the creator's role in the key's organisation
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

    def put(
        self, key_hash: str, user: User, api_key: ApiKey, role: Role, *, generation: int
    ) -> CachedKey:
        """Cache a key found active by a lookup that began at `generation`."""
        entry = CachedKey(
            user, api_key, role, time.monotonic() + self.ttl_seconds, api_key.last_used_at
        )
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
