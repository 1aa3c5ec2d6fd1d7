"""`llmlab orgs list|create|use`: the organisations you belong to, and which one the CLI
acts in (an API key belongs to one organisation)."""

from __future__ import annotations

import contextlib
import platform
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmlab_cli.client import call_with_login, open_client
from llmlab_cli.config import CLIConfig, load_config, read_config_file, save_config
from llmlab_cli.errors import CLIError, CommandGroup, default_command_group
from llmlab_cli.output import JSON_HELP, Column, console, fitted_table, print_json

if TYPE_CHECKING:
    from llmlab_sdk.http import LLMLabClient

app = CommandGroup(
    name="orgs",
    help="Organisations: list yours, create a shared one, choose the one the CLI acts in.",
    cls=default_command_group("list"),
)


def current_org(client: LLMLabClient, config: CLIConfig) -> dict[str, Any]:
    """The organisation the CLI acts in: the one `orgs use` chose, else the personal one."""
    orgs = client.list_orgs()
    for org in orgs:
        if (config.org_id and org["id"] == config.org_id) or (
            not config.org_id and org["personal"]
        ):
            return org
    raise CLIError("the organisation the CLI uses is gone: run `llmlab orgs use NAME`")


def find_org(orgs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The organisation named `name` (or with that id); a `CLIError` naming the choices."""
    matches = [o for o in orgs if o["id"] == name] or [
        o for o in orgs if o["name"].casefold() == name.casefold()
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(o["id"] for o in matches)
        raise CLIError(f"several organisations are named {name!r}: use one of the ids {ids}")
    names = ", ".join(repr(o["name"]) for o in orgs)
    raise CLIError(f"you are not a member of an organisation named {name!r} (yours: {names})")


@app.command("list")
def list_orgs(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Your organisations with your role in each; * marks the one the CLI acts in."""
    config = load_config()
    with open_client(config) as client:
        orgs = client.list_orgs()
        using = current_org(client, config)["id"]
    if as_json:
        print_json([o | {"current": o["id"] == using} for o in orgs])
        return
    out = console()
    rows = [
        [
            "*" if org["id"] == using else "",
            org["name"] + (" (personal)" if org["personal"] else ""),
            org["role"],
            org["id"],
        ]
        for org in orgs
    ]
    columns = [Column(""), Column("Organisation"), Column("Your role"), Column("ID", no_wrap=True)]
    out.print(fitted_table(out, columns, rows, title="Organisations"))


@app.command()
def create(name: Annotated[str, typer.Argument(help="Its name.")]) -> None:
    """Create a shared organisation; you are its owner. `llmlab orgs use NAME` to act in it."""
    with open_client(load_config()) as client:
        org = client.create_org(name)
    console().print(f"Created {org['name']} ({org['id']}); you are its owner.")


@app.command()
def use(name: Annotated[str, typer.Argument(help="The organisation's name or id.")]) -> None:
    """Act in organisation NAME from now on: the CLI makes its own API key there (a key
    belongs to one organisation) and revokes the one it made for the previous organisation.
    Needs the login of `llmlab login`."""
    config = read_config_file()
    with open_client(config) as client:
        target = find_org(client.list_orgs(), name)
        using = current_org(client, config)
        if target["id"] == using["id"]:
            console().print(f"Already using {target['name']}.")
            return
        client.org_id = None if target["personal"] else target["id"]
        key = call_with_login(
            client, config, lambda c: c.create_key(f"llmlab CLI on {platform.node()}"[:100])
        )
        if config.api_key_id:
            _revoke_previous(client, read_config_file(), using)
    save_config(
        read_config_file().with_changes(
            api_key=key["key"],
            api_key_id=str(key["id"]),
            org_id=None if target["personal"] else target["id"],
            org=None if target["personal"] else target["name"],
        )
    )
    console().print(f"Using {target['name']} (your role: {target['role']}).")


def _revoke_previous(client: LLMLabClient, config: CLIConfig, previous: dict[str, Any]) -> None:
    """Revoke the key the CLI made in the organisation it leaves (best effort: a member who
    left it has lost that key already)."""
    from llmlab_sdk.errors import LLMLabAPIError

    client.org_id = None if previous["personal"] else previous["id"]
    with contextlib.suppress(LLMLabAPIError):
        call_with_login(client, config, lambda c: c.delete_key(config.api_key_id or ""))
