"""`llmlab serve`: run the dashboard and REST API on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab_cli.errors import CLIError, CommandGroup

app = CommandGroup()


@app.command()
def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the dashboard and API.")] = (
        3000
    ),
    host: Annotated[
        str,
        typer.Option(help="Interface to listen on: this machine only, or 0.0.0.0 for a server."),
    ] = "127.0.0.1",
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Backend worker processes; more than one needs LLMLAB_REDIS_URL. "
            "Default: GRANIAN_WORKERS, else 1.",
        ),
    ] = None,
) -> None:
    """Start LLMLab (dashboard and REST API on one port) until Ctrl-C.

    Migrates the database first, then runs from <LLMLAB_DATA_DIR>/app (any folder will do).
    Needs the server extra: pip install 'llmlab[server]'. Deploying: docs/deploy.md.
    """
    try:
        # Imported here: the server pulls in Reflex and SQLModel, which the CLI must not load.
        from llmlab_app.server import serve as run_server
    except ImportError as exc:
        raise CLIError(
            f"the server is not installed ({exc.name or exc}): pip install 'llmlab[server]'"
        ) from exc
    code = run_server(port=port, host=host, workers=workers)
    if code:
        raise typer.Exit(code)
