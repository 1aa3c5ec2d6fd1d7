"""API keys of an organisation (managed with a login token, never with an API key;
`X-LLMLab-Org` picks the organisation)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from llmlab_app.api.deps import KeyCreator, KeyReader, KeyRevoker, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import created_key_out, key_out
from llmlab_app.api.schemas import CreatedKeyOut, KeyIn, KeyOut
from llmlab_app.errors import NotFound
from llmlab_app.services import keys

router = APIRouter(prefix="/api/keys", tags=["api keys"])


@router.get("", response_model=Envelope[list[KeyOut]])
def list_keys(actor: KeyReader, session: SessionDep) -> Envelope[list[KeyOut]]:
    """Active keys: name, prefix, scopes, who created it, created, last used. Secrets are
    never shown again."""
    records = keys.list_keys(session, org_id=actor.org_id)
    return ok([key_out(r.key, r.created_by_email) for r in records])


@router.post("", status_code=201, response_model=Envelope[CreatedKeyOut])
def create_key(body: KeyIn, caller: KeyCreator, session: SessionDep) -> Envelope[CreatedKeyOut]:
    """Create a key in the organisation; it acts with your role there, narrowed by `scopes`
    (default: the widest your role allows: `admin` for admins and owners, `read` for
    members). The `llmlab_…` secret is in this response only. Needs a sign-in within the
    last 15 minutes (refreshing does not count): else 401, sign in again."""
    created = keys.create_key_for_session(
        session, actor=caller.actor, signed_in=caller.session, name=body.name, scopes=body.scopes
    )
    return ok(created_key_out(created))


@router.delete("/{key_id}", response_model=Envelope[dict])
def revoke_key(key_id: uuid.UUID, actor: KeyRevoker, session: SessionDep) -> Envelope[dict]:
    """Revoke a key; it stops working at once. Someone else's key needs `manage_keys`."""
    if not keys.revoke_key(session, actor=actor, key_id=key_id):
        raise NotFound("API key not found")
    return ok({"revoked": True, "id": str(key_id)})
