"""API keys of the signed-in user (never managed with an API key)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from llmlab_app.api.deps import SessionDep, TokenCaller
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import created_key_out, key_out
from llmlab_app.api.schemas import CreatedKeyOut, KeyIn, KeyOut
from llmlab_app.errors import AuthenticationFailed, NotFound
from llmlab_app.services import keys

router = APIRouter(prefix="/api/keys", tags=["api keys"])


@router.get("", response_model=Envelope[list[KeyOut]])
def list_keys(caller: TokenCaller, session: SessionDep) -> Envelope[list[KeyOut]]:
    """Active keys: name, prefix, scopes, created, last used. Secrets are never shown again."""
    return ok([key_out(key) for key in keys.list_keys(session, user_id=caller.user_id)])


@router.post("", status_code=201, response_model=Envelope[CreatedKeyOut])
def create_key(body: KeyIn, caller: TokenCaller, session: SessionDep) -> Envelope[CreatedKeyOut]:
    """Create a key with `scopes` (default `admin`); the `llmlab_…` secret is in this response
    only. Needs a sign-in within the last 15 minutes (refreshing does not count): else 401,
    sign in again."""
    if caller.session is None:
        raise AuthenticationFailed("this route needs a login token, not an API key")
    created = keys.create_key_for_session(
        session, signed_in=caller.session, name=body.name, scopes=body.scopes
    )
    return ok(created_key_out(created))


@router.delete("/{key_id}", response_model=Envelope[dict])
def revoke_key(key_id: uuid.UUID, caller: TokenCaller, session: SessionDep) -> Envelope[dict]:
    """Revoke a key; it stops working at once."""
    if not keys.revoke_key(session, user_id=caller.user_id, key_id=key_id):
        raise NotFound("API key not found")
    return ok({"revoked": True, "id": str(key_id)})
