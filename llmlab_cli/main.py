"""The `llmlab` command: wires the command modules into one Typer app.

Imports stay light on purpose (no server, no pricing dataset): `llmlab --help` must be instant,
and each command loads what it needs when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from llmlab_cli.commands import (
    account,
    admin,
    budgets,
    costs,
    demo,
    events,
    members,
    orgs,
    prices,
    savings,
    serve,
)
from llmlab_cli.errors import CommandGroup, OneLineErrorsGroup

app = CommandGroup(
    name="llmlab",
    cls=OneLineErrorsGroup,
    no_args_is_help=True,
    help=(
        "See and control what your LLM API calls cost.\n\n"
        "Start with `llmlab init` (or `llmlab serve` to run a server here), then "
        "`llmlab demo` to see it with realistic data. Settings live in ~/.llmlab/config.toml "
        "(LLMLAB_HOME moves the folder; LLMLAB_BASE_URL and LLMLAB_API_KEY override it)."
    ),
)


def _show_version(value: bool) -> None:
    if value:
        from llmlab_cli.client import user_agent

        typer.echo(user_agent().replace("-cli/", " "))
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """See and control what your LLM API calls cost."""


# Modules with a named Typer (`budgets`, `prices`, `orgs`, `members`, `admin`) become
# sub-commands; the others' commands are merged in at the top level.
for commands in (
    account,
    costs,
    events,
    savings,
    budgets,
    prices,
    orgs,
    members,
    demo,
    serve,
    admin,
):
    app.add_typer(commands.app)
