"""The account's webhook signing secret, and the signature every delivery carries.

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

from llmlab_app.db.models import Budget, BudgetAlert, WebhookSigningSecret, utcnow
from llmlab_app.db.upsert import insert_ignoring_conflicts

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-LLMLab-Signature"


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def get_signing_secret(session: Session, *, user_id: uuid.UUID) -> str:
    """The account's signing secret, made (and committed) on first use."""
    secret = _read(session, user_id)
    if secret is None:
        # Two first uses at once (a delivery and the settings page): one insert wins and
        # both read the same secret.
        row = {"user_id": user_id, "secret": new_signing_secret(), "created_at": utcnow()}
        insert_ignoring_conflicts(
            session, WebhookSigningSecret, [row], conflict_columns=["user_id"]
        )
        session.commit()
        secret = _read(session, user_id)
    assert secret is not None
    return secret


def rotate_signing_secret(session: Session, *, user_id: uuid.UUID) -> str:
    """Replace the account's secret; deliveries from now on (retries included) are signed
    with the new one."""
    get_signing_secret(session, user_id=user_id)
    secret = new_signing_secret()
    session.execute(
        update(WebhookSigningSecret)
        .where(col(WebhookSigningSecret.user_id) == user_id)
        .values(secret=secret, created_at=utcnow())
    )
    session.commit()
    return secret


def signing_secret_for_alert(session: Session, *, alert_id: uuid.UUID) -> str | None:
    """The secret of the account an alert belongs to, or None when the alert is gone."""
    user_id = session.execute(
        select(Budget.user_id)
        .join(BudgetAlert, col(BudgetAlert.budget_id) == col(Budget.id))
        .where(col(BudgetAlert.id) == alert_id)
    ).scalar_one_or_none()
    return None if user_id is None else get_signing_secret(session, user_id=user_id)


def signature_header(secret: str, body: bytes, *, timestamp: int) -> str:
    """The `X-LLMLab-Signature` value for one attempt to send `body`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _read(session: Session, user_id: uuid.UUID) -> str | None:
    return session.execute(
        select(WebhookSigningSecret.secret).where(col(WebhookSigningSecret.user_id) == user_id)
    ).scalar_one_or_none()
