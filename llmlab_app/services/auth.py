"""Accounts and sessions: sign-up, login, refresh-token rotation, logout, authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import update
from sqlmodel import Session, select

from llmlab_app.config import Settings
from llmlab_app.db.models import ApiKey, RefreshToken, User, utcnow
from llmlab_app.errors import AuthenticationFailed, Conflict, InvalidInput
from llmlab_app.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    new_refresh_token,
    sha256_hex,
    verify_password,
)
from llmlab_app.services.keys import (
    CachedKey,
    CreatedKey,
    create_key,
    recent_keys,
    touch_due,
    touch_key,
)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@dataclass(frozen=True)
class SignupResult:
    tokens: TokenPair
    api_key: CreatedKey


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def normalize_email(email: str) -> str:
    return email.strip().lower()


def credential_errors(email: str, password: str, *, new_account: bool) -> dict[str, str]:
    """Field name -> message for credentials; empty when they can be used. The one place the
    sign-up rules live (the API schema and the dashboard forms call it)."""
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = "Enter your email address."
    elif new_account:
        try:
            validate_email(email.strip(), check_deliverability=False)
        except EmailNotValidError:
            errors["email"] = "This does not look like an email address."
    if not password:
        errors["password"] = "Enter a password."
    elif new_account and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return errors


def signup(session: Session, *, email: str, password: str, settings: Settings) -> SignupResult:
    """Create an account with its first API key (the secret is returned once)."""
    if errors := credential_errors(email, password, new_account=True):
        field, message = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {message}")
    email = normalize_email(email)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("an account with this email already exists")
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    api_key = create_key(session, user_id=user.id, name="default", commit=False)
    tokens = _issue_tokens(session, user, settings=settings, family_id=uuid.uuid4())
    session.commit()
    return SignupResult(tokens=tokens, api_key=api_key)


def login(session: Session, *, email: str, password: str, settings: Settings) -> TokenPair:
    """Same 401 and the same work for an unknown email and a wrong password."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise AuthenticationFailed("invalid email or password")
    tokens = _issue_tokens(session, user, settings=settings, family_id=uuid.uuid4())
    session.commit()
    return tokens


def refresh(session: Session, *, refresh_token: str, settings: Settings) -> TokenPair:
    """Rotate: the presented token is revoked and a new pair issued in the same family.

    Presenting an already-rotated token means it leaked: the whole family is revoked.
    """
    now = utcnow()
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token))
    ).first()
    if stored is None:
        raise AuthenticationFailed("invalid refresh token")
    if stored.revoked_at is not None:
        _revoke_family(session, stored.family_id, now)
        session.commit()
        raise AuthenticationFailed("refresh token already used; all sessions of it revoked")
    if stored.expires_at <= now:
        raise AuthenticationFailed("refresh token expired")
    # Conditional update so two racing refreshes cannot both succeed.
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise AuthenticationFailed("refresh token already used")
    user = session.get(User, stored.user_id)
    if user is None:
        raise AuthenticationFailed("invalid refresh token")
    tokens = _issue_tokens(session, user, settings=settings, family_id=stored.family_id)
    session.commit()
    return tokens


def logout(session: Session, *, refresh_token: str) -> None:
    """Revoke the session (the refresh token's family). Unknown tokens are ignored."""
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token))
    ).first()
    if stored is not None:
        _revoke_family(session, stored.family_id, utcnow())
        session.commit()


def user_from_access_token(session: Session, token: str, *, settings: Settings) -> User:
    user_id = decode_access_token(token, secret=settings.resolved_jwt_secret())
    user = session.get(User, user_id)
    if user is None:
        raise AuthenticationFailed("invalid access token")
    return user


def user_from_api_key(session: Session, secret: str) -> tuple[User, ApiKey]:
    row = session.exec(
        select(User, ApiKey)
        .join(ApiKey, ApiKey.user_id == User.id)
        .where(ApiKey.key_hash == sha256_hex(secret), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        raise AuthenticationFailed("invalid or revoked API key")
    return row[0], row[1]


def verified_key(session: Session, secret: str, *, cache: bool) -> CachedKey:
    """The account of an `llmlab_…` key, from `keys.recent_keys` when `cache` allows and the
    entry is fresh, else from the database (then kept when `cache`); records its use."""
    key_hash = sha256_hex(secret)
    found = recent_keys.get(key_hash) if cache else None
    if found is None:
        generation = recent_keys.generation
        user, api_key = user_from_api_key(session, secret)
        if cache:
            # Detached so the cached snapshot outlives this session (and its rollbacks).
            session.expunge(user)
            session.expunge(api_key)
            found = recent_keys.put(key_hash, user, api_key, generation=generation)
        else:
            found = CachedKey(user, api_key, 0.0, api_key.last_used_at)
    now = utcnow()
    if touch_due(found, now):
        found.last_used_at = now
        touch_key(session, key_id=found.api_key.id, now=now)
    return found


def _issue_tokens(
    session: Session, user: User, *, settings: Settings, family_id: uuid.UUID
) -> TokenPair:
    secret, token_hash = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=token_hash,
            expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days),
        )
    )
    access = create_access_token(
        user.id, secret=settings.resolved_jwt_secret(), minutes=settings.access_token_minutes
    )
    return TokenPair(
        access_token=access,
        refresh_token=secret,
        expires_in=settings.access_token_minutes * 60,
        user=user,
    )


def _revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
