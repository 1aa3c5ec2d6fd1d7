"""`llmlab admin ...`: operator commands, run on the server's machine against its database."""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab_cli.errors import CLIError, CommandGroup
from llmlab_cli.output import console

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
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)  # as the server does at start-up: the sessions table must exist
        with get_session(engine) as session:
            ended = auth.reset_password(
                session, email=email, new_password=password, settings=settings
            )
    except AppError as exc:
        raise CLIError(exc.message) from exc
    finally:
        engine.dispose()
    plural = "" if ended == 1 else "s"
    console().print(f"Password of {email.strip().lower()} reset; {ended} session{plural} ended.")
