"""The organisation's webhook signing secret, and the signature every delivery carries.

`X-LLMLab-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with
the UTF-8 bytes of the secret (`whsec_…`, the whole string). A receiver recomputes it over the
body exactly as received and rejects an old `t` (docs/budgets.md shows how), so a captured
delivery cannot be replayed later nor a forged one sent at all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select, update
from sqlmodel import Session, col

from llmlab_app.db.models import BudgetAlert, WebhookSigningSecret, utcnow
from llmlab_app.db.upsert import insert_ignoring_conflicts
from llmlab_app.services import audit
from llmlab_app.services.permissions import Actor, Permission, require

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-LLMLab-Signature"


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def get_signing_secret(session: Session, *, org_id: uuid.UUID) -> str:
    """The organisation's signing secret, made (and committed) on first use."""
    secret = _read(session, org_id)
    if secret is None:
        # Two first uses at once (a delivery and the settings page): one insert wins and
        # both read the same secret.
        row = {"org_id": org_id, "secret": new_signing_secret(), "created_at": utcnow()}
        insert_ignoring_conflicts(session, WebhookSigningSecret, [row], conflict_columns=["org_id"])
        session.commit()
        secret = _read(session, org_id)
    assert secret is not None
    return secret


def reveal_signing_secret(session: Session, *, actor: Actor) -> str:
    """The secret, for those who manage the organisation's webhooks."""
    require(actor, Permission.MANAGE_WEBHOOKS)
    return get_signing_secret(session, org_id=actor.org_id)


def rotate_signing_secret(session: Session, *, actor: Actor) -> str:
    """Replace the organisation's secret; deliveries from now on (retries included) are
    signed with the new one."""
    require(actor, Permission.MANAGE_WEBHOOKS)
    get_signing_secret(session, org_id=actor.org_id)
    secret = new_signing_secret()
    session.execute(
        update(WebhookSigningSecret)
        .where(col(WebhookSigningSecret.org_id) == actor.org_id)
        .values(secret=secret, created_at=utcnow())
    )
    audit.record(session, actor=actor, action="webhook_secret.rotated")
    session.commit()
    return secret


def signing_secret_for_alert(session: Session, *, alert_id: uuid.UUID) -> str | None:
    """The secret of the organisation an alert belongs to, or None when the alert is gone."""
    org_id = session.execute(
        select(BudgetAlert.org_id).where(col(BudgetAlert.id) == alert_id)
    ).scalar_one_or_none()
    return None if org_id is None else get_signing_secret(session, org_id=org_id)


def signature_header(secret: str, body: bytes, *, timestamp: int) -> str:
    """The `X-LLMLab-Signature` value for one attempt to send `body`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _read(session: Session, org_id: uuid.UUID) -> str | None:
    return session.execute(
        select(WebhookSigningSecret.secret).where(col(WebhookSigningSecret.org_id) == org_id)
    ).scalar_one_or_none()
