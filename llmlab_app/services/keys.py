"""API keys: created with a secret shown once, listed, revoked. Only SHA-256 hashes are stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.db.models import ApiKey, utcnow
from llmlab_app.security import new_api_key


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str


def create_key(
    session: Session, *, user_id: uuid.UUID, name: str, commit: bool = True
) -> CreatedKey:
    secret, prefix, key_hash = new_api_key()
    key = ApiKey(user_id=user_id, name=name, prefix=prefix, key_hash=key_hash)
    session.add(key)
    if commit:
        session.commit()
    else:
        session.flush()
    return CreatedKey(key=key, secret=secret)


def list_keys(session: Session, *, user_id: uuid.UUID) -> list[ApiKey]:
    """Active keys, newest first."""
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.created_at).desc())
        )
    )


def revoke_key(session: Session, *, user_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """False when the key is not this user's or already revoked."""
    revoked = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
    session.commit()
    return revoked == 1


def touch_key(session: Session, *, key_id: uuid.UUID, now: datetime) -> None:
    """Record use; callers throttle this so a hot key is not written on every request."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    session.commit()
