"""Accounts and sign-in: sign-up (with its policy and invitations), login (API tokens or a
dashboard session), refresh-token rotation, logout, password change and reset,
authentication of tokens and keys, account deletion.

Every door (REST API, dashboard) comes through here, so the sign-in limits
(`sign_in_limits.py`) and session revocation (`sessions.py`) hold for all of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from llmlab_app.config import Settings
from llmlab_app.db.models import (
    ApiKey,
    Membership,
    Organisation,
    RefreshToken,
    User,
    UserSession,
    utcnow,
)
from llmlab_app.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound
from llmlab_app.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    new_refresh_token,
    sha256_hex,
    verify_password,
)
from llmlab_app.services import audit, sessions
from llmlab_app.services.emails import is_email, normalize_email
from llmlab_app.services.invitations import join_by_invitation
from llmlab_app.services.keys import (
    CachedKey,
    CreatedKey,
    create_key,
    recent_keys,
    revoke_keys_of_member,
    touch_due,
    touch_key,
)
from llmlab_app.services.orgs import (
    OrgMembership,
    actor_for,
    create_personal_organisation,
    lock_organisation,
)
from llmlab_app.services.permissions import Role
from llmlab_app.services.sessions import ActiveSession
from llmlab_app.services.sign_in_limits import SignInLimits


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


@dataclass(frozen=True)
class DashboardSignIn:
    """A dashboard session: `session_token` is the only thing the browser's state keeps."""

    session_token: str
    user: User


@dataclass(frozen=True)
class DashboardSignup:
    signed_in: DashboardSignIn
    api_key: CreatedKey
    joined: OrgMembership | None = None


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
    errors.update(password_errors(password, new_password=new_account))
    return errors


def password_errors(password: str, *, new_password: bool) -> dict[str, str]:
    """`{"password": message}` when the password cannot be used, else empty."""
    if not password:
        return {"password": "Enter a password."}
    if new_password and len(password) < MIN_PASSWORD_LENGTH:
        return {"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {"password": f"Use at most {MAX_PASSWORD_LENGTH} characters."}
    return {}


# --- sign-up and sign-in ------------------------------------------------------------------

SIGNUP_CLOSED = "sign-up is closed on this server: an administrator creates accounts"
SIGNUP_NEEDS_INVITATION = "sign-up on this server needs an invitation (invitation_token)"


def signup(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
    invitation_token: str | None = None,
) -> SignupResult:
    """Create an account, its personal organisation with a first API key there (admin; the
    secret is returned once) and an API session (access + refresh token); with an
    invitation, join its organisation too. `settings.signup` says who may: anyone, only the
    invited, or nobody."""
    user, api_key, joined = _create_account_and_join(
        session, email, password, settings, limits, address, invitation_token
    )
    tokens = _start_api_session(session, user, settings=settings)
    session.commit()
    return SignupResult(tokens=tokens, api_key=api_key, joined=joined)


def _create_account_and_join(
    session: Session,
    email: str,
    password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
    invitation_token: str | None,
) -> tuple[User, CreatedKey, OrgMembership | None]:
    """What both sign-up doors do before their session: the account, its personal
    organisation and first key, and the invitation's organisation when there is one."""
    user, api_key = _create_account(
        session,
        email,
        password,
        settings=settings,
        limits=limits,
        address=address,
        invited=invitation_token is not None,
    )
    joined = (
        join_by_invitation(session, user=user, token=invitation_token) if invitation_token else None
    )
    return user, api_key, joined


def dashboard_signup(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
    invitation_token: str | None = None,
) -> DashboardSignup:
    """`signup` for the dashboard: a dashboard session instead of tokens."""
    user, api_key, joined = _create_account_and_join(
        session, email, password, settings, limits, address, invitation_token
    )
    signed_in = _start_dashboard_session(session, user, settings=settings)
    session.commit()
    return DashboardSignup(signed_in=signed_in, api_key=api_key, joined=joined)


def login(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
) -> TokenPair:
    """A new API session for the right password. Same 401 and the same work for an unknown
    email and a wrong password; 429 past the sign-in limits."""
    user = _check_password(session, email, password, limits=limits, address=address)
    tokens = _start_api_session(session, user, settings=settings)
    session.commit()
    return tokens


def dashboard_login(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
) -> DashboardSignIn:
    """`login` for the dashboard: a dashboard session instead of tokens."""
    user = _check_password(session, email, password, limits=limits, address=address)
    signed_in = _start_dashboard_session(session, user, settings=settings)
    session.commit()
    return signed_in


def _create_account(
    session: Session,
    email: str,
    password: str,
    *,
    settings: Settings,
    limits: SignInLimits,
    address: str,
    invited: bool = False,
) -> tuple[User, CreatedKey]:
    if settings.signup == "closed":
        raise Forbidden(SIGNUP_CLOSED)
    if settings.signup == "invite" and not invited:
        raise Forbidden(SIGNUP_NEEDS_INVITATION)
    limits.count_attempt(address)
    user = _new_user(session, email=email, password=password)
    owner = actor_for(session, user=user)
    return user, create_key(session, actor=owner, name="default", commit=False)


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


def _check_password(
    session: Session, email: str, password: str, *, limits: SignInLimits, address: str
) -> User:
    limits.count_attempt(address)
    limits.refuse_if_locked(email)
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if not verify_password(password, user.password_hash if user else None) or user is None:
        limits.record_failure(email)
        raise AuthenticationFailed("invalid email or password")
    return user


# --- API sessions: access and refresh tokens ----------------------------------------------


def refresh(
    session: Session,
    *,
    refresh_token: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
) -> TokenPair:
    """Rotate: the presented token is revoked and a new pair issued in the same session.

    Presenting an already-rotated token means it leaked: the whole session is ended, its
    access tokens included.
    """
    limits.count_attempt(address)
    now = utcnow()
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token))
    ).first()
    if stored is None:
        raise AuthenticationFailed("invalid refresh token")
    if stored.revoked_at is not None:
        sessions.end_sessions(session, [stored.family_id], cache=sessions.session_cache(settings))
        raise AuthenticationFailed("refresh token already used; its session is revoked")
    if stored.expires_at <= now:
        raise AuthenticationFailed("refresh token expired")
    signed_in = session.get(UserSession, stored.family_id)
    if signed_in is None or signed_in.revoked_at is not None:
        raise AuthenticationFailed("invalid refresh token")
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
    tokens = _issue_tokens(session, user, signed_in, settings=settings)
    session.commit()
    return tokens


def logout(session: Session, *, refresh_token: str, settings: Settings) -> None:
    """End the session the refresh token belongs to, its access tokens included, in every
    worker at once. Unknown tokens are ignored."""
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token))
    ).first()
    if stored is not None:
        sessions.end_sessions(session, [stored.family_id], cache=sessions.session_cache(settings))


def session_from_access_token(session: Session, token: str, *, settings: Settings) -> ActiveSession:
    """The live API session an access token names; 401 once it has ended."""
    claims = decode_access_token(token, secret=settings.resolved_jwt_secret())
    found = sessions.active_session(
        session, claims.session_id, cache=sessions.session_cache(settings)
    )
    if found.kind != sessions.API or found.user_id != claims.user_id:
        raise AuthenticationFailed("invalid access token")
    return found


def _start_api_session(session: Session, user: User, *, settings: Settings) -> TokenPair:
    signed_in, _ = sessions.start_session(
        session,
        user_id=user.id,
        kind=sessions.API,
        lifetime=timedelta(days=settings.refresh_token_days),
    )
    return _issue_tokens(session, user, signed_in, settings=settings)


def _issue_tokens(
    session: Session, user: User, signed_in: UserSession, *, settings: Settings
) -> TokenPair:
    secret, token_hash = new_refresh_token()
    expires_at = datetime.now(UTC) + timedelta(days=settings.refresh_token_days)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=signed_in.id,
            token_hash=token_hash,
            expires_at=expires_at,
        )
    )
    # A session lives as long as its newest refresh token (using it keeps it alive).
    signed_in.expires_at = expires_at
    access = create_access_token(
        user.id,
        signed_in.id,
        secret=settings.resolved_jwt_secret(),
        minutes=settings.access_token_minutes,
    )
    return TokenPair(
        access_token=access,
        refresh_token=secret,
        expires_in=settings.access_token_minutes * 60,
        user=user,
    )


# --- dashboard sessions -------------------------------------------------------------------


def _start_dashboard_session(
    session: Session, user: User, *, settings: Settings
) -> DashboardSignIn:
    _, token = sessions.start_session(
        session,
        user_id=user.id,
        kind=sessions.DASHBOARD,
        lifetime=timedelta(days=settings.refresh_token_days),
    )
    assert token is not None
    return DashboardSignIn(session_token=token, user=user)


def dashboard_session(session: Session, *, session_token: str, settings: Settings) -> ActiveSession:
    """The live dashboard session a browser's reference names; 401 once it has ended."""
    return sessions.dashboard_session(
        session, session_token, cache=sessions.session_cache(settings)
    )


def end_dashboard_session(session: Session, *, session_token: str, settings: Settings) -> None:
    """Sign the dashboard out: the session ends everywhere and its reference becomes
    worthless. Unknown or already ended references are ignored."""
    cache = sessions.session_cache(settings)
    try:
        found = sessions.dashboard_session(session, session_token, cache=cache)
    except AuthenticationFailed:
        return
    sessions.end_sessions(session, [found.id], cache=cache)


# --- passwords ----------------------------------------------------------------------------


def change_password(
    session: Session,
    *,
    signed_in: ActiveSession,
    current_password: str,
    new_password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
) -> int:
    """Set a new password after checking the current one (a wrong one counts as a failed
    sign-in); ends every other session of the user. Returns how many ended."""
    if errors := password_errors(new_password, new_password=True):
        raise InvalidInput(f"new_password: {errors['password']}")
    user = session.get(User, signed_in.user_id)
    if user is None:
        raise AuthenticationFailed(sessions.SESSION_ENDED)
    limits.count_attempt(address)
    limits.refuse_if_locked(user.email)
    if not verify_password(current_password, user.password_hash):
        limits.record_failure(user.email)
        raise AuthenticationFailed("current_password: wrong password")
    _set_password(session, user, new_password)
    return sessions.end_user_sessions(
        session, user_id=user.id, cache=sessions.session_cache(settings), keep=signed_in.id
    )


def reset_password(session: Session, *, email: str, new_password: str, settings: Settings) -> int:
    """An operator's reset (`llmlab admin reset-password`): set the password and end every
    session of the account. Returns how many ended; `NotFound` for an unknown email."""
    if errors := password_errors(new_password, new_password=True):
        raise InvalidInput(f"password: {errors['password']}")
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise NotFound(f"no account with the email {normalize_email(email)!r}")
    _set_password(session, user, new_password)
    return sessions.end_user_sessions(
        session, user_id=user.id, cache=sessions.session_cache(settings)
    )


def _set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()


# --- other credentials --------------------------------------------------------------------


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def user_from_api_key(session: Session, secret: str) -> tuple[User, ApiKey, Role]:
    """The key's creator, the key, and the creator's role in the key's organisation (what
    the key acts with, narrowed by its scopes)."""
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


def verified_key(
    session: Session, secret: str, *, cache: bool, keep: bool | None = None
) -> CachedKey:
    """The account of an `llmlab_…` key, from `keys.recent_keys` when `cache` allows and the
    entry is fresh, else from the database, then kept in `recent_keys` when `keep` (default:
    `cache`; the gateway keeps keys it may not read back, for an outage); records its use."""
    key_hash = sha256_hex(secret)
    found = recent_keys.get(key_hash) if cache else None
    if found is None:
        generation = recent_keys.generation
        user, api_key, role = user_from_api_key(session, secret)
        if cache if keep is None else keep:
            # Detached so the cached snapshot outlives this session (and its rollbacks).
            session.expunge(user)
            session.expunge(api_key)
            found = recent_keys.put(key_hash, user, api_key, role, generation=generation)
        else:
            found = CachedKey(user, api_key, role, 0.0, api_key.last_used_at)
    now = utcnow()
    if touch_due(found, now):
        found.last_used_at = now
        touch_key(session, key_id=found.api_key.id, now=now)
    return found


# --- leaving --------------------------------------------------------------------------------


def delete_account(
    session: Session,
    *,
    user_id: uuid.UUID,
    password: str,
    settings: Settings,
    limits: SignInLimits,
    address: str,
) -> None:
    """Delete the account with its personal organisation and everything in it, after
    checking the password (a wrong one counts as a failed sign-in). Refused while the user
    is the last owner of a shared organisation (they hand it over or delete it first); they
    leave the other shared organisations, and the keys they made there are revoked."""
    user = session.get(User, user_id)
    if user is None:
        raise AuthenticationFailed(sessions.SESSION_ENDED)
    limits.count_attempt(address)
    limits.refuse_if_locked(user.email)
    if not verify_password(password, user.password_hash):
        limits.record_failure(user.email)
        raise AuthenticationFailed("password: wrong password")
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
    signed_in = list(session.exec(select(UserSession.id).where(UserSession.user_id == user.id)))
    session.delete(user)
    session.commit()
    # Its sessions went with it; workers must not answer from what they cached of them.
    sessions.session_cache(settings).forget(signed_in)
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
