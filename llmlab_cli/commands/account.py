"""`llmlab init`, `login`, `logout`, `status`: connecting the CLI to a server and an account."""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmlab_cli.client import call_with_login, open_client
from llmlab_cli.commands.budgets import show_budgets
from llmlab_cli.config import CLIConfig, config_path, load_config, read_config_file, save_config
from llmlab_cli.errors import CLIError, CommandGroup, one_line
from llmlab_cli.output import JSON_HELP, console, error_console, money, print_json

if TYPE_CHECKING:
    from llmlab_sdk.http import LLMLabClient

app = CommandGroup()

UrlOption = Annotated[
    str | None, typer.Option("--url", help="Server URL, e.g. http://localhost:3000.")
]
EmailOption = Annotated[str | None, typer.Option(help="Account email.")]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        help="Account password (asked for, hidden, when left out; read from standard input "
        "when it is not a terminal)."
    ),
]


def ask_password(*, confirm: bool) -> str:
    """The password, hidden at a terminal; piped in, one line of standard input (getpass would
    warn that it cannot hide it, and confirmation makes no sense there)."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CLIError("no password on standard input: pipe one line, or give --password")
    return password


@app.command()
def init(
    url: UrlOption = None,
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="An existing API key (llmlab_...).")
    ] = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    signup: Annotated[
        bool, typer.Option("--signup", help="Create the account for --email first.")
    ] = False,
) -> None:
    """Connect the CLI to an LLMLab server and save ~/.llmlab/config.toml.

    Give an API key, or an email and password to log in (with --signup to create the account).
    Whatever is left out is asked for. The connection is checked before anything is saved;
    the file is readable by you only. LLMLAB_HOME moves the folder.
    """
    current = read_config_file()
    base_url = url or typer.prompt("Server URL", default=current.base_url)
    if not api_key and not email:
        api_key = typer.prompt(
            "API key (leave empty to use an email and password)", default="", show_default=False
        ).strip()
        if not api_key:
            email = typer.prompt("Email")
            signup = signup or typer.confirm("Create a new account?", default=False)
    config = CLIConfig(base_url=base_url.rstrip("/"))
    with open_client(config, needs_key=False) as client:
        client.health()
        if api_key:
            client.api_key = api_key
            client.list_budgets()  # proves the key works
            config = config.with_changes(api_key=api_key)
        else:
            assert email is not None
            config = _sign_in(client, config, email, password, signup=signup)
    path = save_config(config)
    who = config.email or f"API key {(config.api_key or '')[:13]}…"
    console().print(f"Connected to {config.base_url} as {who}. Settings saved to {path}.")


def _sign_in(
    client: LLMLabClient, config: CLIConfig, email: str, password: str | None, *, signup: bool
) -> CLIConfig:
    """Sign up or log in; keeps the login tokens and an API key for the CLI."""
    if password is None:
        password = ask_password(confirm=signup)
    if signup:
        account = client.signup(email, password)
        key = account["api_key"]
        # The account's first key belongs to the user, not to this CLI: logout must not revoke it.
        key_id = None
    else:
        account = client.login(email, password)
        client.access_token = account["access_token"]
        key = _create_cli_key(client)
        key_id = str(key["id"])
    return config.with_changes(
        email=account["user"]["email"],
        access_token=account["access_token"],
        refresh_token=account["refresh_token"],
        api_key=key["key"],
        api_key_id=key_id,
    )


def _create_cli_key(client: LLMLabClient) -> dict[str, Any]:
    """The CLI's own key: `admin`, since its commands set budgets and prices too."""
    name = f"llmlab CLI on {platform.node() or 'this machine'}"[:100]
    return client.create_key(name, scopes=["admin"])


@app.command()
def login(
    email: EmailOption = None,
    password: PasswordOption = None,
    url: UrlOption = None,
) -> None:
    """Log in with email and password; keeps a login token and creates an API key for the CLI.

    An API key already in the config is kept, unless it was saved for another account.
    """
    stored = read_config_file()
    config = stored.with_changes(base_url=url.rstrip("/")) if url else load_config()
    email = email or typer.prompt("Email", default=stored.email or None)
    if password is None:
        password = ask_password(confirm=False)
    with open_client(config, needs_key=False) as client:
        tokens = client.login(email, password)
        config = stored.with_changes(
            base_url=config.base_url,
            email=tokens["user"]["email"],
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )
        # Keep the stored key unless it belongs to someone else (switching accounts).
        if not stored.api_key or (stored.email and stored.email != config.email):
            client.access_token = tokens["access_token"]
            key = _create_cli_key(client)
            config = config.with_changes(api_key=key["key"], api_key_id=str(key["id"]))
    save_config(config)
    console().print(f"Logged in to {config.base_url} as {config.email}.")


@app.command()
def logout() -> None:
    """Log out: revoke the login session and the API key the CLI created, forget both locally.

    An API key you pasted in with `llmlab init --api-key` stays valid on the server.
    """
    stored = read_config_file()
    if not (stored.api_key or stored.access_token or stored.refresh_token):
        console().print("Not logged in.")
        return
    if stored.refresh_token or stored.api_key_id:
        try:
            _revoke(stored)
        except Exception as exc:
            from llmlab_cli.errors import describe

            message = describe(exc)
            if message is None:
                raise
            error_console().print(f"Warning: could not revoke on the server: {one_line(message)}")
    save_config(CLIConfig(base_url=stored.base_url))
    console().print(f"Logged out; credentials removed from {config_path()}.")


def _revoke(stored: CLIConfig) -> None:
    refresh_token = stored.refresh_token
    with open_client(stored, needs_key=False) as client:
        if stored.api_key_id:
            call_with_login(client, stored, lambda c: c.delete_key(stored.api_key_id or ""))
            # A refreshed token pair was saved by call_with_login; revoke that one.
            refresh_token = read_config_file().refresh_token
        if refresh_token:
            call_with_login(client, stored, lambda c: c.logout(refresh_token or ""))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Server health, who you are, and this month's spend against your budgets."""
    config = load_config()
    with open_client(config) as client:
        health = _health(client)
        user = _whoami(client, config)
        month = client.cost_summary()
        budgets = client.list_budgets()
    totals = {
        name: month[name]
        for name in ("start", "end", "total_cost_usd", "calls", "error_calls", "unpriced_calls")
    }
    if as_json:
        print_json(
            {
                "base_url": config.base_url,
                "config_path": str(config_path()),
                "health": health,
                "user": user,
                "api_key_prefix": (config.api_key or "")[:13] or None,
                "month": totals,
                "budgets": budgets,
            }
        )
        return
    out = console()
    out.print(
        f"Server   {config.base_url}  {health['status']} "
        f"(version {health.get('version', '?')}, database {health.get('database', '?')})"
    )
    who = (user or {}).get("email") or config.email or "(log in to see the account's email)"
    out.print(f"Account  {who}  · API key {(config.api_key or '')[:13]}…")
    unpriced = f", {totals['unpriced_calls']:,} unpriced" if totals["unpriced_calls"] else ""
    out.print(
        f"Spend    {money(totals['total_cost_usd'])} from {totals['start']} to {totals['end']} "
        f"({totals['calls']:,} calls{unpriced})"
    )
    out.print()
    show_budgets(out, budgets)


def _health(client: LLMLabClient) -> dict[str, Any]:
    from llmlab_sdk.errors import LLMLabAPIError

    try:
        return client.health()
    except LLMLabAPIError as exc:
        # 503 still carries the health document: the app answers but its database does not.
        if isinstance(exc.data, dict):
            return exc.data
        raise


def _whoami(client: LLMLabClient, config: CLIConfig) -> dict[str, Any] | None:
    """The signed-in user, or None when the CLI only holds an API key (or the login expired)."""
    from llmlab_sdk.errors import LLMLabAPIError

    if not (config.access_token or config.refresh_token):
        return None
    try:
        return call_with_login(client, config, lambda c: c.me())
    except (LLMLabAPIError, CLIError):
        return None
