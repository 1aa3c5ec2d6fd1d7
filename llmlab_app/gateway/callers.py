"""Who is calling the gateway: the LLMLab key in `X-LLMLab-Key`, and nothing else (the
`Authorization` and `x-api-key` headers carry the provider's key through)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from llmlab_app.config import Settings
from llmlab_app.errors import AuthenticationFailed, Forbidden
from llmlab_app.gateway.errors import BadLLMLabKey, KeyLacksScope, LLMLabUnavailable
from llmlab_app.security import API_KEY_PREFIX, sha256_hex
from llmlab_app.services.ingest_keys import tracking_actor, verified_ingest_key
from llmlab_app.services.keys import CachedKey, recent_keys

LLMLAB_KEY_HEADER = "x-llmlab-key"


@dataclass(frozen=True)
class Sender:
    """Whose a gateway call (and its event) is: the organisation of the LLMLab key, and the
    key."""

    org_id: uuid.UUID
    api_key_id: uuid.UUID


# While the database cannot be reached, a key verified this recently is still trusted.
OUTAGE_KEY_SECONDS = 60.0


async def gateway_caller(engine: Engine, settings: Settings, secret: str | None) -> Sender:
    """The key acting in its organisation, allowed to track: its creator's role may, and
    its scopes hold `ingest` (every scope includes it).

    Like the API: one worker answers from the keys verified in the last few seconds
    (`keys.recent_keys`, which forgets a revoked key), several workers (Redis) ask the
    database every time, so that a revocation holds at once in all of them. When the
    database is down, a key verified in the last `OUTAGE_KEY_SECONDS` by this worker still
    passes and any other gets `LLMLabUnavailable` (503): calls do not stop for LLMLab's sake."""
    if not secret:
        raise BadLLMLabKey(
            "missing X-LLMLab-Key header: send your LLMLab API key (llmlab_...) in it; "
            "the provider key stays in Authorization / x-api-key"
        )
    if not secret.startswith(API_KEY_PREFIX):
        raise BadLLMLabKey("X-LLMLab-Key is not an LLMLab API key (llmlab_...)")
    try:
        found = await verified_ingest_key(engine, settings, secret)
    except AuthenticationFailed as exc:
        raise BadLLMLabKey(f"X-LLMLab-Key: {exc.message}") from exc
    except SQLAlchemyError as exc:
        found = recent_keys.verified_within(sha256_hex(secret), OUTAGE_KEY_SECONDS)
        if found is None:
            raise LLMLabUnavailable(
                "LLMLab cannot verify this key right now (database unavailable); retry shortly",
                headers={"Retry-After": "5"},
            ) from exc
    return _with_ingest_scope(found)


def _with_ingest_scope(found: CachedKey) -> Sender:
    try:
        actor = tracking_actor(found)
    except Forbidden as exc:
        raise KeyLacksScope(f"X-LLMLab-Key: {exc.message}") from exc
    assert actor.api_key_id is not None
    return Sender(org_id=actor.org_id, api_key_id=actor.api_key_id)
