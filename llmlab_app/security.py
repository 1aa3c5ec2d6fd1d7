"""Password hashing, access tokens and opaque secrets (API keys, refresh tokens)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from passlib.context import CryptContext

from llmlab_app.errors import AuthenticationFailed

API_KEY_PREFIX = "llmlab_"
JWT_ALGORITHM = "HS256"

# argon2id for new hashes; bcrypt hashes (if ever imported) still verify.
_passwords = CryptContext(schemes=["argon2", "bcrypt"], deprecated="auto")
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _passwords.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the user exists."""
    if password_hash is None:
        _passwords.verify(password, _DUMMY_HASH)
        return False
    return _passwords.verify(password, password_hash)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """A fresh API key as (secret shown once, display prefix, stored hash)."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return secret, secret[: len(API_KEY_PREFIX) + 6], sha256_hex(secret)


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token as (secret, stored hash)."""
    secret = secrets.token_urlsafe(48)
    return secret, sha256_hex(secret)


def new_session_token(session_id: uuid.UUID) -> tuple[str, str]:
    """A dashboard session's reference as (secret kept by the browser, stored hash).

    The session id travels in the clear in front of the secret so a lookup needs no scan;
    only the hash of the whole token is stored, so the database alone cannot rebuild it."""
    secret = f"{session_id.hex}.{secrets.token_urlsafe(32)}"
    return secret, sha256_hex(secret)


def session_id_of_token(token: str) -> uuid.UUID | None:
    """The session id a dashboard session token names, or None when it is malformed."""
    head, dot, rest = token.partition(".")
    if not dot or not rest or len(head) != 32:
        return None
    try:
        return uuid.UUID(hex=head)
    except ValueError:
        return None


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID


def create_access_token(
    user_id: uuid.UUID, session_id: uuid.UUID, *, secret: str, minutes: int
) -> str:
    """A signed access token for a session; it is honoured only while the session lives."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "type": "access",
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> AccessClaims:
    """The user and session of a valid access token; `AuthenticationFailed` for anything else
    (tokens issued before sessions existed carry no `sid` and are refused: refresh them)."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("access token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthenticationFailed("invalid access token") from exc
    if payload.get("type") != "access":
        raise AuthenticationFailed("invalid access token")
    try:
        return AccessClaims(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]))
    except (ValueError, TypeError, AttributeError) as exc:
        raise AuthenticationFailed("invalid access token") from exc
