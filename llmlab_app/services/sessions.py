"""Sign-in sessions: started by a password, named by every access token (`sid`) and by the
dashboard's session reference, checked on every request and dashboard event, ended by logout,
refresh-token reuse, a password change or an operator's reset.

Checking is a database read, so live sessions are cached, and ending one drops it from the
cache at once: in this process's memory with one worker, in Redis (shared by every worker
and by `llmlab admin`) when `LLMLAB_REDIS_URL` is set.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.config import Settings
from llmlab_app.db.models import RefreshToken, UserSession, utcnow
from llmlab_app.errors import AuthenticationFailed
from llmlab_app.security import new_session_token, session_id_of_token, sha256_hex

logger = logging.getLogger("llmlab.sessions")

API = "api"
DASHBOARD = "dashboard"

# Creating an API key asks for a password typed this recently (the session's sign-in time,
# which refreshing does not move).
RECENT_SIGN_IN = timedelta(minutes=15)

# Without Redis, how long this process trusts a session it looked up. Ending a session in
# this process drops it at once; only an operator's `llmlab admin` (another process, without
# Redis to tell this one) waits up to this long.
MEMORY_CACHE_SECONDS = 5.0
# With Redis: a live session is kept this long; an ended one is marked "revoked" for longer
# than any lookup can take, so a lookup that read the row before the revocation cannot put it
# back (it only writes where nothing is).
REDIS_ENTRY_SECONDS = 60
REDIS_REVOKED_SECONDS = 3600
REDIS_PREFIX = "llmlab:session:"

SESSION_ENDED = "session ended (signed out or revoked): sign in again"


@dataclass(frozen=True)
class ActiveSession:
    """What a check needs to know of a live session."""

    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    signed_in_at: datetime
    expires_at: datetime
    token_hash: str | None = None


class SessionCache(Protocol):
    def generation(self) -> int: ...

    def get(self, session_id: uuid.UUID) -> ActiveSession | None: ...

    def put(self, found: ActiveSession, *, generation: int) -> None: ...

    def forget(self, session_ids: Iterable[uuid.UUID]) -> None: ...


class MemorySessionCache:
    """Live sessions of one process, for `MEMORY_CACHE_SECONDS`. A lookup that began before a
    `forget` is not kept (`generation`), so it cannot bring an ended session back."""

    def __init__(self, ttl_seconds: float = MEMORY_CACHE_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._generation = 0
        self._entries: dict[uuid.UUID, tuple[ActiveSession, float]] = {}
        self._lock = threading.Lock()

    def generation(self) -> int:
        return self._generation

    def get(self, session_id: uuid.UUID) -> ActiveSession | None:
        entry = self._entries.get(session_id)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, found: ActiveSession, *, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) > 10_000:
                now = time.monotonic()
                self._entries = {k: e for k, e in self._entries.items() if e[1] >= now}
            self._entries[found.id] = (found, time.monotonic() + self.ttl_seconds)

    def forget(self, session_ids: Iterable[uuid.UUID]) -> None:
        with self._lock:
            self._generation += 1
            for session_id in session_ids:
                self._entries.pop(session_id, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries = {}


class RedisSessionCache:
    """Live sessions shared by every worker through Redis. A Redis failure makes a lookup go
    to the database; a failed `forget` is logged (the entry then lives out its
    `REDIS_ENTRY_SECONDS`)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url.removeprefix("async+"))

    def generation(self) -> int:
        return 0  # SET NX over the "revoked" mark does what the generation does in memory

    def get(self, session_id: uuid.UUID) -> ActiveSession | None:
        try:
            raw = self._redis.get(REDIS_PREFIX + session_id.hex)
        except Exception as exc:  # redis.RedisError and connection failures
            logger.warning("session cache unavailable, reading the database: %s", exc)
            return None
        if not raw or raw == b"revoked":
            return None
        return _decode(raw)

    def put(self, found: ActiveSession, *, generation: int) -> None:
        try:
            self._redis.set(
                REDIS_PREFIX + found.id.hex, _encode(found), nx=True, ex=REDIS_ENTRY_SECONDS
            )
        except Exception as exc:
            logger.warning("session cache unavailable: %s", exc)

    def forget(self, session_ids: Iterable[uuid.UUID]) -> None:
        try:
            with self._redis.pipeline() as pipe:
                for session_id in session_ids:
                    pipe.set(REDIS_PREFIX + session_id.hex, b"revoked", ex=REDIS_REVOKED_SECONDS)
                pipe.execute()
        except Exception as exc:
            logger.warning(
                "could not tell the other workers that sessions ended (they stop honouring "
                "them within %s s): %s",
                REDIS_ENTRY_SECONDS,
                exc,
            )


def _encode(found: ActiveSession) -> bytes:
    fields = asdict(found)
    for name in ("id", "user_id"):
        fields[name] = fields[name].hex
    for name in ("signed_in_at", "expires_at"):
        fields[name] = fields[name].isoformat()
    return json.dumps(fields).encode()


def _decode(raw: bytes) -> ActiveSession:
    fields = json.loads(raw)
    return ActiveSession(
        id=uuid.UUID(fields["id"]),
        user_id=uuid.UUID(fields["user_id"]),
        kind=fields["kind"],
        signed_in_at=datetime.fromisoformat(fields["signed_in_at"]),
        expires_at=datetime.fromisoformat(fields["expires_at"]),
        token_hash=fields["token_hash"],
    )


recent_sessions = MemorySessionCache()


@lru_cache(maxsize=4)
def _redis_cache(url: str) -> RedisSessionCache:
    return RedisSessionCache(url)


def session_cache(settings: Settings) -> SessionCache:
    """Where this deployment caches live sessions: Redis when configured, else memory."""
    return _redis_cache(settings.redis_url) if settings.redis_url else recent_sessions


# --- starting, checking, ending -----------------------------------------------------------


def start_session(
    db: Session, *, user_id: uuid.UUID, kind: str, lifetime: timedelta
) -> tuple[UserSession, str | None]:
    """A new session (not committed) and, for the dashboard, the secret reference to hand to
    the browser (only its hash is stored)."""
    now = utcnow()
    row = UserSession(
        user_id=user_id, kind=kind, signed_in_at=now, expires_at=now + lifetime, created_at=now
    )
    token = None
    if kind == DASHBOARD:
        token, row.token_hash = new_session_token(row.id)
    db.add(row)
    return row, token


def active_session(db: Session, session_id: uuid.UUID, *, cache: SessionCache) -> ActiveSession:
    """The session if it is live; `AuthenticationFailed` if it ended, expired or never was."""
    found = cache.get(session_id)
    if found is None:
        generation = cache.generation()
        row = db.get(UserSession, session_id)
        if row is None or row.revoked_at is not None:
            raise AuthenticationFailed(SESSION_ENDED)
        found = ActiveSession(
            id=row.id,
            user_id=row.user_id,
            kind=row.kind,
            signed_in_at=row.signed_in_at,
            expires_at=row.expires_at,
            token_hash=row.token_hash,
        )
        cache.put(found, generation=generation)
    if found.expires_at <= utcnow():
        raise AuthenticationFailed("session expired: sign in again")
    return found


def dashboard_session(db: Session, token: str, *, cache: SessionCache) -> ActiveSession:
    """The live dashboard session a browser's reference names."""
    session_id = session_id_of_token(token)
    if session_id is None:
        raise AuthenticationFailed(SESSION_ENDED)
    found = active_session(db, session_id, cache=cache)
    if found.kind != DASHBOARD or not hmac.compare_digest(
        found.token_hash or "", sha256_hex(token)
    ):
        raise AuthenticationFailed(SESSION_ENDED)
    return found


def require_recent_sign_in(found: ActiveSession) -> None:
    """`AuthenticationFailed` (401) unless the password was typed in the last 15 minutes."""
    if utcnow() - found.signed_in_at > RECENT_SIGN_IN:
        minutes = int(RECENT_SIGN_IN.total_seconds() // 60)
        raise AuthenticationFailed(
            f"sign in again: this needs a sign-in within the last {minutes} minutes"
        )


def end_sessions(db: Session, session_ids: list[uuid.UUID], *, cache: SessionCache) -> None:
    """Revoke sessions and their refresh tokens, commit (with whatever else the transaction
    holds), then drop them from the cache."""
    now = utcnow()
    if session_ids:
        db.execute(
            update(UserSession)
            .where(col(UserSession.id).in_(session_ids), col(UserSession.revoked_at).is_(None))
            .values(revoked_at=now)
        )
        db.execute(
            update(RefreshToken)
            .where(
                col(RefreshToken.family_id).in_(session_ids),
                col(RefreshToken.revoked_at).is_(None),
            )
            .values(revoked_at=now)
        )
    db.commit()
    if session_ids:
        cache.forget(session_ids)


def end_user_sessions(
    db: Session, *, user_id: uuid.UUID, cache: SessionCache, keep: uuid.UUID | None = None
) -> int:
    """End every live session of a user except `keep`; returns how many ended."""
    ids = [
        session_id
        for session_id in db.exec(
            select(UserSession.id).where(
                UserSession.user_id == user_id, col(UserSession.revoked_at).is_(None)
            )
        )
        if session_id != keep
    ]
    end_sessions(db, ids, cache=cache)
    return len(ids)
