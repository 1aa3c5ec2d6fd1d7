"""`llmlab members list|invite|remove`: the people of the organisation the CLI acts in."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from llmlab_cli.client import open_client
from llmlab_cli.commands.orgs import current_org
from llmlab_cli.config import load_config
from llmlab_cli.errors import CLIError, CommandGroup, default_command_group
from llmlab_cli.output import JSON_HELP, Column, console, fitted_table, print_json

app = CommandGroup(
    name="members",
    help="Members of the organisation the CLI acts in (see `llmlab orgs use`).",
    cls=default_command_group("list"),
)

Role = Literal["owner", "admin", "member", "viewer"]


@app.command("list")
def list_members(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Members with their roles, owners first."""
    config = load_config()
    with open_client(config) as client:
        org = current_org(client, config)
        members = client.list_members(org["id"])
    if as_json:
        print_json(members)
        return
    out = console()
    rows = [[m["email"], m["role"], m["joined_at"][:10]] for m in members]
    columns = [Column("Email"), Column("Role"), Column("Joined", no_wrap=True)]
    out.print(fitted_table(out, columns, rows, title=f"Members of {org['name']}"))


@app.command()
def invite(
    email: Annotated[str, typer.Argument(help="Who to invite.")],
    role: Annotated[Role, typer.Option(help="Their role once they join.")] = "member",
) -> None:
    """Invite EMAIL: prints a link to give them (no mail is sent), valid 7 days, used once.
    They open it, sign in or sign up with that email, and join."""
    config = load_config()
    with open_client(config) as client:
        org = current_org(client, config)
        invitation = client.invite_member(org["id"], email, role)
    out = console()
    out.print(f"Invited {invitation['email']} to {org['name']} as {invitation['role']}.")
    out.print(f"Link (shown once, valid until {invitation['expires_at'][:16]} UTC):")
    out.print(invitation["url"])


@app.command()
def remove(email: Annotated[str, typer.Argument(help="The member's email.")]) -> None:
    """Remove a member (your own email: leave); the API keys they made there stop working."""
    config = load_config()
    with open_client(config) as client:
        org = current_org(client, config)
        wanted = email.strip().casefold()
        found = [m for m in client.list_members(org["id"]) if m["email"].casefold() == wanted]
        if not found:
            raise CLIError(f"{email} is not a member of {org['name']}")
        removed = client.remove_member(org["id"], found[0]["user_id"])
    keys = removed.get("keys_revoked", 0)
    console().print(f"Removed {found[0]['email']} from {org['name']} ({keys} API key(s) revoked).")
