"""API keys: created with a secret shown once, listed, revoked. Only SHA-256 hashes are stored.

A key belongs to one organisation and acts with the role its creator has there, narrowed by
its scopes, each including the ones before it: `ingest` (track events, read budget status for
the SDK's guard), `read` (also spend, events, CSV, budgets, alerts, recommendations, projects,
price overrides, members) and `admin` (everything the role may do). Demoting the creator
narrows the key at once; removing them revokes it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import ApiKey, User, utcnow
from llmlab_app.errors import InvalidInput
from llmlab_app.security import new_api_key
from llmlab_app.services import audit
from llmlab_app.services.permissions import (
    SCOPES,
    Actor,
    Permission,
    Role,
    key_permissions,
    require,
    role_key_scopes,
)
from llmlab_app.services.sessions import ActiveSession, require_recent_sign_in

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


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes in rank order without repeats."""
    wanted = list(scopes)
    if unknown := [scope for scope in wanted if scope not in SCOPES]:
        raise InvalidInput(f"scopes: unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}")
    if not wanted:
        raise InvalidInput(f"scopes: give at least one of {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in wanted]


def create_key(
    session: Session,
    *,
    actor: Actor,
    name: str,
    scopes: Iterable[str] | None = None,
    commit: bool = True,
) -> CreatedKey:
    """A key of the actor's organisation, acting with the actor's role there narrowed by
    `scopes`: by default the widest its creator's role allows (`admin` for admins and owners,
    `read` for members). Its secret is in the result only."""
    require(actor, Permission.CREATE_KEYS)
    chosen = list(role_key_scopes(actor.role)[-1:]) if scopes is None else normalize_scopes(scopes)
    if "admin" in chosen:
        require(actor, Permission.MANAGE_KEYS)
    secret, prefix, key_hash = new_api_key()
    key = ApiKey(
        org_id=actor.org_id,
        user_id=actor.user_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scopes=chosen,
    )
    session.add(key)
    session.flush()
    audit.record(session, actor=actor, action="key.created", target=name, details=_about(key))
    if commit:
        session.commit()
    return CreatedKey(key=key, secret=secret)


def create_key_for_session(
    session: Session,
    *,
    actor: Actor,
    signed_in: ActiveSession,
    name: str,
    scopes: Iterable[str] | None,
) -> CreatedKey:
    """Create a key for the user of a sign-in session, which must be recent: a stolen
    session (or a forgotten open tab) cannot mint a credential that outlives it."""
    require_recent_sign_in(signed_in)
    return create_key(session, actor=actor, name=name, scopes=scopes)


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


def revoke_permission(actor: Actor, key: ApiKey) -> Permission:
    """Revoking one's own key needs `create_keys`; someone else's, `manage_keys`."""
    return Permission.CREATE_KEYS if key.user_id == actor.user_id else Permission.MANAGE_KEYS


def revoke_key(session: Session, *, actor: Actor, key_id: uuid.UUID) -> bool:
    """False when the key is not the organisation's or already revoked."""
    key = session.get(ApiKey, key_id)
    if key is None or key.org_id != actor.org_id or key.revoked_at is not None:
        return False
    require(actor, revoke_permission(actor, key))
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


def narrow_keys_of_member(
    session: Session, *, org_id: uuid.UUID, user_id: uuid.UUID, role: Role
) -> int:
    """Narrow the scopes of the keys `user_id` created in the organisation to what `role`
    allows, and revoke those left with none (in the caller's transaction). Returns how many
    keys changed."""
    allowed = role_key_scopes(role)
    changed = 0
    for key in session.exec(
        select(ApiKey).where(
            ApiKey.org_id == org_id, ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None)
        )
    ):
        kept = _narrowed(key.scopes, allowed)
        if kept == key.scopes:
            continue
        if kept:
            key.scopes = kept
        else:
            key.revoked_at = utcnow()
        session.add(key)
        changed += 1
    return changed


def _narrowed(scopes: list[str], allowed: tuple[str, ...]) -> list[str]:
    """The widest scope `allowed` holds that is no wider than the key's widest one."""
    widest = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)  # type: ignore[arg-type]
    fitting = [s for s in allowed if SCOPES.index(s) <= widest]  # type: ignore[arg-type]
    if scopes and all(s in allowed for s in scopes):
        return scopes
    return fitting[-1:]


def _about(key: ApiKey) -> dict[str, object]:
    return {"key_id": str(key.id), "prefix": key.prefix, "scopes": list(key.scopes)}


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

    def verified_within(self, key_hash: str, seconds: float) -> CachedKey | None:
        """A key verified at most `seconds` ago even if its entry has expired: what the
        gateway trusts while the database cannot be reached (a revoked key is forgotten)."""
        entry = self._entries.get(key_hash)
        if entry is None or entry.expires - self.ttl_seconds < time.monotonic() - seconds:
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


def key_actor(found: CachedKey) -> Actor:
    """The key acting in its organisation with its creator's role, narrowed by its scopes."""
    key = found.api_key
    assert key.user_id is not None  # a key whose creator is gone does not authenticate
    return Actor(
        user_id=key.user_id,
        org_id=key.org_id,
        role=found.role,
        api_key_id=key.id,
        email=found.user.email,
        key_permissions=key_permissions(key.scopes),
    )


def touch_due(cached: CachedKey, now: datetime) -> bool:
    """Whether the key's use should be recorded again (`LAST_USED_RESOLUTION`)."""
    return cached.last_used_at is None or now - cached.last_used_at > LAST_USED_RESOLUTION
