"""Who is calling the gateway: the LLMLab key in `X-LLMLab-Key`, and nothing else (the
`Authorization` and `x-api-key` headers carry the provider's key through)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from llmlab_app.db.models import utcnow
from llmlab_app.errors import AuthenticationFailed
from llmlab_app.gateway.errors import BadLLMLabKey, LLMLabUnavailable
from llmlab_app.security import API_KEY_PREFIX, sha256_hex
from llmlab_app.services.auth import verified_key
from llmlab_app.services.keys import CachedKey, recent_keys, touch_due

LLMLAB_KEY_HEADER = "x-llmlab-key"
# While the database cannot be reached, a key verified this recently is still trusted.
OUTAGE_KEY_SECONDS = 60.0


async def gateway_caller(engine: Engine, secret: str | None) -> CachedKey:
    """The account of an `llmlab_…` key: from the keys verified in the last few seconds
    (`keys.recent_keys`, which forgets revoked keys), else from the database. When the
    database is down, a key verified in the last `OUTAGE_KEY_SECONDS` still passes and any
    other gets `LLMLabUnavailable` (503): calls are not refused for LLMLab's sake."""
    if not secret:
        raise BadLLMLabKey(
            "missing X-LLMLab-Key header: send your LLMLab API key (llmlab_...) in it; "
            "the provider key stays in Authorization / x-api-key"
        )
    if not secret.startswith(API_KEY_PREFIX):
        raise BadLLMLabKey("X-LLMLab-Key is not an LLMLab API key (llmlab_...)")
    key_hash = sha256_hex(secret)
    cached = recent_keys.get(key_hash)
    if cached is not None and not touch_due(cached, utcnow()):
        return cached

    def verify() -> CachedKey:
        with Session(engine, expire_on_commit=False) as session:
            return verified_key(session, secret, cache=True)

    try:
        return await run_in_threadpool(verify)
    except AuthenticationFailed as exc:
        raise BadLLMLabKey(f"X-LLMLab-Key: {exc.message}") from exc
    except SQLAlchemyError as exc:
        known = recent_keys.verified_within(key_hash, OUTAGE_KEY_SECONDS)
        if known is None:
            raise LLMLabUnavailable(
                "LLMLab cannot verify this key right now (database unavailable); retry shortly",
                headers={"Retry-After": "5"},
            ) from exc
        return known
