"""The API key of a source that only tracks (the gateway, the OTLP receiver), verified the
way the API verifies keys, without the API's request machinery."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from llmlab_app.config import Settings
from llmlab_app.db.models import utcnow
from llmlab_app.security import sha256_hex
from llmlab_app.services.auth import verified_key
from llmlab_app.services.keys import CachedKey, key_actor, recent_keys, touch_due
from llmlab_app.services.permissions import Actor, Permission, require


async def verified_ingest_key(engine: Engine, settings: Settings, secret: str) -> CachedKey:
    """The key `secret` is. Like the API: one worker answers from the keys verified in the
    last few seconds (`keys.recent_keys`, which forgets a revoked key); several workers
    (Redis) ask the database every time, so that a revocation holds at once in all of them.

    Raises `AuthenticationFailed`; a database failure is left to the caller."""
    cache = settings.redis_url is None
    cached = recent_keys.get(sha256_hex(secret)) if cache else None
    if cached is not None and not touch_due(cached, utcnow()):
        return cached

    def verify() -> CachedKey:
        with Session(engine, expire_on_commit=False) as session:
            return verified_key(session, secret, cache=cache, keep=True)

    return await run_in_threadpool(verify)


def tracking_actor(found: CachedKey) -> Actor:
    """The key acting in its organisation, allowed to track: its creator's role may, and its
    scopes hold `ingest` (every scope includes it). Raises `Forbidden` naming what lacks."""
    actor = key_actor(found)
    require(actor, Permission.TRACK)
    return actor
