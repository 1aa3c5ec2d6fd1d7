"""Sign-up, login, token refresh, logout, password change and deleting the account."""

from __future__ import annotations

from fastapi import APIRouter

from llmlab_app.api.deps import (
    ClientAddress,
    IngestCaller,
    SessionDep,
    SettingsDep,
    SignInLimitsDep,
    TokenCaller,
)
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import created_key_out, org_out, tokens_out, user_out
from llmlab_app.api.schemas import (
    Credentials,
    DeleteAccountIn,
    LoginIn,
    PasswordChangedOut,
    PasswordChangeIn,
    RefreshIn,
    SignupOut,
    TokensOut,
    UserOut,
)
from llmlab_app.errors import AuthenticationFailed
from llmlab_app.services import auth

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/signup", status_code=201, response_model=Envelope[SignupOut])
def signup(
    body: Credentials,
    session: SessionDep,
    settings: SettingsDep,
    limits: SignInLimitsDep,
    address: ClientAddress,
) -> Envelope[SignupOut]:
    """Create an account with its personal organisation. Returns tokens and a first API key
    there (scope `admin`; its secret is shown once); with `invitation_token`, also joins that
    organisation. The server's `LLMLAB_SIGNUP` policy may require an invitation, or refuse
    (403). Limited per client address."""
    result = auth.signup(
        session,
        email=body.email,
        password=body.password,
        settings=settings,
        limits=limits,
        address=address,
        invitation_token=body.invitation_token,
    )
    tokens = tokens_out(result.tokens)
    return ok(
        SignupOut(
            **tokens.model_dump(),
            api_key=created_key_out(result.api_key),
            joined=org_out(result.joined) if result.joined else None,
        )
    )


@router.post("/login", response_model=Envelope[TokensOut])
def login(
    body: LoginIn,
    session: SessionDep,
    settings: SettingsDep,
    limits: SignInLimitsDep,
    address: ClientAddress,
) -> Envelope[TokensOut]:
    """Exchange email and password for an access token (15 minutes) and a refresh token.

    Limited per client address, and per email: after 10 failed passwords in 15 minutes every
    attempt for that email gets 429 with `Retry-After`, the right password included."""
    pair = auth.login(
        session,
        email=body.email,
        password=body.password,
        settings=settings,
        limits=limits,
        address=address,
    )
    return ok(tokens_out(pair))


@router.post("/refresh", response_model=Envelope[TokensOut])
def refresh(
    body: RefreshIn,
    session: SessionDep,
    settings: SettingsDep,
    limits: SignInLimitsDep,
    address: ClientAddress,
) -> Envelope[TokensOut]:
    """Rotate a refresh token: the old one stops working, a new pair is returned. Presenting
    an already-rotated token ends its session."""
    pair = auth.refresh(
        session,
        refresh_token=body.refresh_token,
        settings=settings,
        limits=limits,
        address=address,
    )
    return ok(tokens_out(pair))


@router.post("/logout", response_model=Envelope[dict])
def logout(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> Envelope[dict]:
    """End the session the refresh token belongs to: its access tokens stop working at once."""
    auth.logout(session, refresh_token=body.refresh_token, settings=settings)
    return ok({"logged_out": True})


@router.put("/password", response_model=Envelope[PasswordChangedOut])
def change_password(
    body: PasswordChangeIn,
    caller: TokenCaller,
    session: SessionDep,
    settings: SettingsDep,
    limits: SignInLimitsDep,
    address: ClientAddress,
) -> Envelope[PasswordChangedOut]:
    """Change the password (signed-in only, never with an API key). Every other session of
    the account ends; this one stays signed in."""
    if caller.session is None:
        raise AuthenticationFailed("this route needs a login token, not an API key")
    ended = auth.change_password(
        session,
        signed_in=caller.session,
        current_password=body.current_password,
        new_password=body.new_password,
        settings=settings,
        limits=limits,
        address=address,
    )
    return ok(PasswordChangedOut(changed=True, sessions_ended=ended))


@router.get("/me", response_model=Envelope[UserOut])
def me(caller: IngestCaller, session: SessionDep) -> Envelope[UserOut]:
    """The user behind the token or API key (any scope)."""
    user = auth.get_user(session, caller.user_id)
    if user is None:
        raise AuthenticationFailed("invalid credentials")
    return ok(user_out(user))


@router.delete("/me", response_model=Envelope[dict])
def delete_account(
    body: DeleteAccountIn,
    caller: TokenCaller,
    session: SessionDep,
    settings: SettingsDep,
    limits: SignInLimitsDep,
    address: ClientAddress,
) -> Envelope[dict]:
    """Delete your account (password required; a wrong one counts as a failed sign-in) with
    your personal organisation and all its data. Refused (409) while you are the last owner
    of a shared organisation; you leave the others, and the keys you made there are revoked."""
    auth.delete_account(
        session,
        user_id=caller.user_id,
        password=body.password,
        settings=settings,
        limits=limits,
        address=address,
    )
    return ok({"deleted": True, "id": str(caller.user_id)})
