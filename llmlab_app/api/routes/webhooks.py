"""The signing secret of the organisation's budget webhooks (signed-in admins and owners only,
never API keys: a leaked SDK key must not be enough to forge alerts)."""

from __future__ import annotations

from fastapi import APIRouter

from llmlab_app.api.deps import SessionDep, WebhookManager
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.schemas import SigningSecretOut
from llmlab_app.services import webhook_secrets

router = APIRouter(prefix="/api/webhooks", tags=["budgets"])


@router.get("/signing-secret", response_model=Envelope[SigningSecretOut])
def get_signing_secret(actor: WebhookManager, session: SessionDep) -> Envelope[SigningSecretOut]:
    """The secret that signs every webhook delivery (`X-LLMLab-Signature`); made on first use."""
    secret = webhook_secrets.reveal_signing_secret(session, actor=actor)
    return ok(SigningSecretOut(secret=secret))


@router.post("/signing-secret/rotate", response_model=Envelope[SigningSecretOut])
def rotate_signing_secret(actor: WebhookManager, session: SessionDep) -> Envelope[SigningSecretOut]:
    """Replace the signing secret; deliveries from now on, retries included, use the new one."""
    secret = webhook_secrets.rotate_signing_secret(session, actor=actor)
    return ok(SigningSecretOut(secret=secret))
