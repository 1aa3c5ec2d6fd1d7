"""Accounts and sessions: sign-up (with its policy and invitations), login, refresh-token
rotation, logout, authentication, account deletion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.config import Settings
from llmlab_app.db.models import ApiKey, Membership, Organisation, RefreshToken, User, utcnow
from llmlab_app.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput
from llmlab_app.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    new_refresh_token,
    sha256_hex,
    verify_password,
)
from llmlab_app.services import audit
from llmlab_app.services.emails import is_email, normalize_email
from llmlab_app.services.invitations import join_by_invitation
from llmlab_app.services.keys import CreatedKey, create_key, recent_keys, revoke_keys_of_member
from llmlab_app.services.orgs import (
    OrgMembership,
    actor_for,
    create_personal_organisation,
    lock_organisation,
)
from llmlab_app.services.permissions import Role


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@dataclass(frozen=True)
class SignupResult:
    tokens: TokenPair
    api_key: CreatedKey  # in the personal organisation
    joined: OrgMembership | None  # the organisation of the invitation signed up with


MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


def credential_errors(email: str, password: str, *, new_account: bool) -> dict[str, str]:
    """Field name -> message for credentials; empty when they can be used. The one place the
    sign-up rules live (the API schema and the dashboard forms call it)."""
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = "Enter your email address."
    elif new_account and not is_email(email):
        errors["email"] = "This does not look like an email address."
    if not password:
        errors["password"] = "Enter a password."
    elif new_account and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors["password"] = f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return errors


SIGNUP_CLOSED = "sign-up is closed on this server: an administrator creates accounts"
SIGNUP_NEEDS_INVITATION = "sign-up on this server needs an invitation (invitation_token)"


def signup(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    invitation_token: str | None = None,
) -> SignupResult:
    """Create an account, its personal organisation and a first API key there (the secret
    is returned once); with an invitation, join its organisation too. `settings.signup`
    says who may: anyone, only the invited, or nobody."""
    if settings.signup == "closed":
        raise Forbidden(SIGNUP_CLOSED)
    if settings.signup == "invite" and not invitation_token:
        raise Forbidden(SIGNUP_NEEDS_INVITATION)
    user = _new_user(session, email=email, password=password)
    owner = actor_for(session, user=user)
    api_key = create_key(session, actor=owner, name="default", commit=False)
    joined = (
        join_by_invitation(session, user=user, token=invitation_token) if invitation_token else None
    )
    tokens = _issue_tokens(session, user, settings=settings, family_id=uuid.uuid4())
    session.commit()
    return SignupResult(tokens=tokens, api_key=api_key, joined=joined)


def create_user(session: Session, *, email: str, password: str) -> User:
    """An account with its personal organisation, whatever the sign-up policy (for the
    server's administrator: `llmlab admin create-user`)."""
    user = _new_user(session, email=email, password=password)
    session.commit()
    return user


def _new_user(session: Session, *, email: str, password: str) -> User:
    if errors := credential_errors(email, password, new_account=True):
        field, message = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {message}")
    email = normalize_email(email)
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("an account with this email already exists")
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    create_personal_organisation(session, user=user)
    return user


def delete_account(session: Session, *, user: User, password: str) -> None:
    """Delete the account with its personal organisation and everything in it. Refused
    while the user is the last owner of a shared organisation (they hand it over or delete
    it first); in the other shared organisations they leave, and their keys are revoked."""
    if not verify_password(password, user.password_hash):
        raise AuthenticationFailed("wrong password")
    shared = session.exec(
        select(Membership)
        .join(Organisation, col(Organisation.id) == Membership.org_id)
        .where(Membership.user_id == user.id, col(Organisation.personal_user_id).is_(None))
        .order_by(col(Membership.org_id))
    ).all()
    for membership in shared:  # in id order: concurrent deletions lock in one order
        lock_organisation(session, org_id=membership.org_id)
    still_owned = [session.get(Organisation, m.org_id) for m in shared if _last_owner(session, m)]
    if still_owned:
        names = ", ".join(repr(org.name) for org in still_owned if org)
        raise Conflict(
            f"you are the last owner of {names}: make another member owner or delete it first"
        )
    for membership in shared:
        actor = actor_for(session, user=user, org_id=membership.org_id)
        revoked = revoke_keys_of_member(session, org_id=membership.org_id, user_id=user.id)
        audit.record(
            session,
            actor=actor,
            action="member.left",
            target=user.email,
            details={"user_id": str(user.id), "keys_revoked": revoked, "account_deleted": True},
        )
    session.delete(user)
    session.commit()
    recent_keys.clear()


def _last_owner(session: Session, membership: Membership) -> bool:
    session.refresh(membership)
    if membership.role != Role.OWNER.value:
        return False
    owners = session.exec(
        select(Membership.user_id).where(
            Membership.org_id == membership.org_id, Membership.role == Role.OWNER.value
        )
    ).all()
    return len(owners) < 2


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


def user_from_api_key(session: Session, secret: str) -> tuple[User, ApiKey, Role]:
    """The key's creator, the key, and the creator's role in the key's organisation (what
    the key acts with)."""
    row = session.exec(
        select(User, ApiKey, Membership.role)
        .join(ApiKey, col(ApiKey.user_id) == User.id)
        .join(
            Membership,
            (col(Membership.org_id) == ApiKey.org_id) & (col(Membership.user_id) == User.id),
        )
        .where(ApiKey.key_hash == sha256_hex(secret), col(ApiKey.revoked_at).is_(None))
    ).first()
    if row is None:
        raise AuthenticationFailed("invalid or revoked API key")
    return row[0], row[1], Role(row[2])


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
