"""`llmlab admin ...`: operator commands, run on the server's machine against its database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from llmlab_cli.errors import CLIError, CommandGroup
from llmlab_cli.output import console

T = TypeVar("T")

app = CommandGroup(
    name="admin",
    help=(
        "Operator commands. They run where the server runs and work directly on its database, "
        "with the server's own settings (LLMLAB_DATABASE_URL, LLMLAB_DATA_DIR, "
        "LLMLAB_REDIS_URL); they need the server extra: pip install 'llmlab[server]'."
    ),
    no_args_is_help=True,
)


@app.command("reset-password")
def reset_password(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new password (asked for, hidden, twice, when left out)."),
    ] = None,
) -> None:
    """Set a new password for EMAIL and sign out every session of the account.

    There is no mail server: give the user the new password yourself and ask them to change
    it (PUT /api/auth/password). Their API keys keep working. With LLMLAB_REDIS_URL set the
    sessions end at once in every worker; without it the running server notices within 5 s.
    """
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    new_password = password
    ended = _on_server_database(
        lambda auth, session, settings: auth.reset_password(
            session, email=email, new_password=new_password, settings=settings
        )
    )
    plural = "" if ended == 1 else "s"
    console().print(f"Password of {email.strip().lower()} reset; {ended} session{plural} ended.")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Argument(help="The new account's email.")],
    password: Annotated[
        str | None,
        typer.Option(help="Its password (asked for, hidden, twice, when left out)."),
    ] = None,
) -> None:
    """Create the account EMAIL, with its personal organisation, whatever LLMLAB_SIGNUP says:
    how the first user of a server with sign-up `closed` (or `invite`) comes to be. Then
    they sign in, create a shared organisation and invite the others."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    new_password = password
    user = _on_server_database(
        lambda auth, session, settings: auth.create_user(
            session, email=email, password=new_password
        )
    )
    console().print(f"Created {user.email} with a personal organisation; they can sign in now.")


def _on_server_database(work: Callable[[Any, Any, Any], T]) -> T:
    """Run `work(auth service module, session, settings)` on the server's database, with
    the server's settings, migrated first as the server does at start-up."""
    try:
        # Imported here: the CLI must not load the server (SQLModel, Reflex) for other commands.
        from pydantic import ValidationError

        from llmlab_app.config import get_settings
        from llmlab_app.db.engine import get_session, make_engine, migrate
        from llmlab_app.errors import AppError
        from llmlab_app.services import auth
    except ImportError as exc:
        raise CLIError(
            f"the server is not installed ({exc.name or exc}): pip install 'llmlab[server]'"
        ) from exc
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise CLIError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        with get_session(engine) as session:
            return work(auth, session, settings)
    except AppError as exc:
        raise CLIError(exc.message) from exc
    finally:
        engine.dispose()
