"""Sign-up, login, token refresh and logout."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from llmlab_app.api.deps import (
    CurrentCaller,
    SessionDep,
    SettingsDep,
    TokenCaller,
    auth_rate_limit,
)
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import created_key_out, org_out, tokens_out, user_out
from llmlab_app.api.schemas import (
    Credentials,
    DeleteAccountIn,
    LoginIn,
    RefreshIn,
    SignupOut,
    TokensOut,
    UserOut,
)
from llmlab_app.services import auth

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/signup",
    status_code=201,
    response_model=Envelope[SignupOut],
    dependencies=[Depends(auth_rate_limit)],
)
def signup(body: Credentials, session: SessionDep, settings: SettingsDep) -> Envelope[SignupOut]:
    """Create an account with its personal organisation. Returns tokens and a first API key
    there (its secret is shown once); with `invitation_token`, also joins that organisation.
    The server's `LLMLAB_SIGNUP` policy may require an invitation, or refuse (403)."""
    result = auth.signup(
        session,
        email=body.email,
        password=body.password,
        settings=settings,
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


@router.post("/login", response_model=Envelope[TokensOut], dependencies=[Depends(auth_rate_limit)])
def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> Envelope[TokensOut]:
    """Exchange email and password for an access token (24 h) and a refresh token."""
    pair = auth.login(session, email=body.email, password=body.password, settings=settings)
    return ok(tokens_out(pair))


@router.post(
    "/refresh", response_model=Envelope[TokensOut], dependencies=[Depends(auth_rate_limit)]
)
def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> Envelope[TokensOut]:
    """Rotate a refresh token: the old one stops working, a new pair is returned."""
    return ok(
        tokens_out(auth.refresh(session, refresh_token=body.refresh_token, settings=settings))
    )


@router.post("/logout", response_model=Envelope[dict])
def logout(body: RefreshIn, session: SessionDep) -> Envelope[dict]:
    """Revoke the session that the refresh token belongs to."""
    auth.logout(session, refresh_token=body.refresh_token)
    return ok({"logged_out": True})


@router.get("/me", response_model=Envelope[UserOut])
def me(caller: CurrentCaller) -> Envelope[UserOut]:
    """The user behind the token or API key."""
    return ok(user_out(caller.user))


@router.delete("/me", response_model=Envelope[dict])
def delete_account(
    body: DeleteAccountIn, caller: TokenCaller, session: SessionDep
) -> Envelope[dict]:
    """Delete your account (password required) with your personal organisation and all its
    data. Refused (409) while you are the last owner of a shared organisation; you leave the
    others, and the keys you created there are revoked."""
    auth.delete_account(session, user=caller.user, password=body.password)
    return ok({"deleted": True, "id": str(caller.user_id)})
