"""`llmlab demo --team NAME`: the demo's calls in a shared organisation with two members,
each sending with a key of their own, so spend by key and by member has something to show."""

from __future__ import annotations

import platform
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmlab_cli.client import call_with_login, open_client
from llmlab_cli.commands.orgs import find_org
from llmlab_cli.config import CLIConfig
from llmlab_cli.errors import CLIError

if TYPE_CHECKING:
    from llmlab_sdk.http import LLMLabClient

# The teammate's calls: the projects a data team would run.
TEAMMATE_PROJECTS = frozenset({"data-pipeline", "code-review"})
Sender = Callable[["LLMLabClient", list[dict[str, Any]]], tuple[int, int, Decimal]]


def teammate_email(seed: int) -> str:
    return f"demo-teammate-{seed}@example.com"


def send_as_team(
    client: LLMLabClient,
    config: CLIConfig,
    name: str,
    events: list[dict[str, Any]],
    *,
    seed: int,
    send: Sender,
) -> tuple[int, int, Decimal]:
    """Send `events` into organisation `name` (made if missing): the teammate's projects
    with the teammate's key, the rest with a new key of yours there, which `client` keeps
    afterwards (for the budget). A teammate who joined on an earlier run cannot be signed in
    again: their share then goes with your key (every event is already there anyway)."""
    if not (config.access_token or config.refresh_token):
        raise CLIError("--team needs a login: run `llmlab login` first")
    theirs = None
    try:
        org = find_org(client.list_orgs(), name)
    except CLIError:
        org = client.create_org(name)
    # Signed in (not with the CLI's key, which belongs to another organisation), acting in it.
    with open_client(config, needs_key=False) as owner:
        owner.api_key, owner.org_id = None, org["id"]
        members = call_with_login(owner, config, lambda c: c.list_members(org["id"]))
        email = teammate_email(seed)
        if all(m["email"] != email for m in members):
            theirs = _teammate_key(owner, config, org["id"], email)
        mine = call_with_login(
            owner, config, lambda c: c.create_key(f"demo: your calls ({platform.node()})"[:100])
        )["key"]
    client.api_key = mine
    own = [e for e in events if e["project"] not in TEAMMATE_PROJECTS]
    shared = [e for e in events if e["project"] in TEAMMATE_PROJECTS]
    totals = [send(client, own)]
    if theirs is not None:
        client.api_key = theirs
    totals.append(send(client, shared))
    client.api_key = mine
    return (
        sum(t[0] for t in totals),
        sum(t[1] for t in totals),
        sum((t[2] for t in totals), Decimal(0)),
    )


def _teammate_key(client: LLMLabClient, config: CLIConfig, org_id: str, email: str) -> str:
    """Invite the teammate, sign them up with the invitation, and make their key."""
    from llmlab_sdk.errors import LLMLabAPIError
    from llmlab_sdk.http import LLMLabClient

    invitation = call_with_login(client, config, lambda c: c.invite_member(org_id, email))
    with LLMLabClient(client.base_url) as teammate:
        try:
            account = teammate.request(
                "POST",
                "/api/auth/signup",
                auth="none",
                json={
                    "email": email,
                    # Nobody signs in as the teammate: a password no one knows.
                    "password": secrets.token_urlsafe(24),
                    "invitation_token": invitation["token"],
                },
            )
        except LLMLabAPIError as exc:
            raise CLIError(f"cannot sign up the demo teammate {email}: {exc.message}") from exc
        teammate.access_token = account["access_token"]
        teammate.org_id = org_id
        return str(teammate.create_key("demo: teammate's batch jobs")["key"])
