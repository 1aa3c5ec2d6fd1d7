"""API keys of an organisation (managed with a login token; `X-LLMLab-Org` picks which)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from llmlab_app.api.deps import KeyCreator, KeyReader, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import created_key_out, key_out
from llmlab_app.api.schemas import CreatedKeyOut, KeyIn, KeyOut
from llmlab_app.errors import NotFound
from llmlab_app.services import keys

router = APIRouter(prefix="/api/keys", tags=["api keys"])


@router.get("", response_model=Envelope[list[KeyOut]])
def list_keys(actor: KeyReader, session: SessionDep) -> Envelope[list[KeyOut]]:
    """Active keys: name, prefix, who created it, created, last used. Secrets are never
    shown again."""
    return ok(
        [key_out(r.key, r.created_by_email) for r in keys.list_keys(session, org_id=actor.org_id)]
    )


@router.post("", status_code=201, response_model=Envelope[CreatedKeyOut])
def create_key(body: KeyIn, actor: KeyCreator, session: SessionDep) -> Envelope[CreatedKeyOut]:
    """Create a key in the organisation; it acts with your role there. The `llmlab_…`
    secret is in this response only."""
    return ok(created_key_out(keys.create_key(session, actor=actor, name=body.name)))


@router.delete("/{key_id}", response_model=Envelope[dict])
def revoke_key(key_id: uuid.UUID, actor: KeyCreator, session: SessionDep) -> Envelope[dict]:
    """Revoke a key; it stops working at once. Someone else's key needs `manage_keys`."""
    if not keys.revoke_key(session, actor=actor, key_id=key_id):
        raise NotFound("API key not found")
    return ok({"revoked": True, "id": str(key_id)})
