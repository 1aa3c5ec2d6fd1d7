"""User errors and how they reach the terminal: one line on stderr, exit code 1 (2 for usage).

Commands raise; only this module turns exceptions into exit codes.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import typer

# Typer vendors its own Click; the base class of its parse errors is only reachable here.
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup

P = ParamSpec("P")
R = TypeVar("R")


class CLIError(Exception):
    """Something the user can fix; its message is shown as is, on one line."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `Error: message` on stderr; returns the `typer.Exit` to raise."""
    typer.echo(f"Error: {one_line(message)}", err=True)
    return typer.Exit(code)


def one_line(text: str) -> str:
    """`text` with line breaks folded, so an error never spans several lines."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def describe(exc: BaseException) -> str | None:
    """The message to show for an expected failure, or None for a bug (which should surface)."""
    if isinstance(exc, CLIError):
        return str(exc)
    # Imported here: the SDK and the core are only needed once something went wrong.
    from llmlab_core.errors import LLMLabError as CoreError
    from llmlab_sdk.errors import LLMLabAPIError, LLMLabConnectionError

    if isinstance(exc, LLMLabConnectionError):
        return f"{exc} (is the server running? start one with `llmlab serve`)"
    if isinstance(exc, LLMLabAPIError):
        return _describe_api_error(exc)
    if isinstance(exc, CoreError):
        return str(exc)
    return None


def _describe_api_error(exc: Any) -> str:
    status, message = exc.status_code, exc.message
    if status == 401:
        return (
            f"the server rejected the credentials ({message}); run `llmlab init` or `llmlab login`"
        )
    if status == 429:
        says_when = "retry" in message.lower()
        wait = f"; retry in {exc.retry_after:.0f} s" if exc.retry_after and not says_when else ""
        return f"rate limited by the server ({message}){wait}"
    if status >= 500:
        return f"the server failed ({status}): {message}"
    return f"{message} ({status})"


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command, turning expected failures into one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except Exception as exc:
            message = describe(exc)
            if message is None:
                raise
            raise fail(message) from None

    return wrapper


class CommandGroup(typer.Typer):
    """A `typer.Typer` whose commands all go through `guarded`, with plain (Click-style) help."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("add_completion", False)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
        register = super().command(*args, **kwargs)

        def decorator(func: Callable[P, R]) -> Callable[P, R]:
            register(guarded(func))
            return func

        return decorator


class OneLineErrorsGroup(TyperGroup):
    """The root command: usage errors become one line on stderr (exit 2), like other errors."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except ClickException as exc:
            hint = ""
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                hint = f" (see `{ctx.command_path} --help`)"
            typer.echo(f"Error: {one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        # Without standalone mode Typer returns the exit code of a `typer.Exit` as the result.
        sys.exit(result if isinstance(result, int) else 0)


def default_command_group(default: str) -> type[TyperGroup]:
    """A group class that runs `default` when the first word is not one of its commands.

    So `llmlab prices gpt-4o` means `llmlab prices show gpt-4o` while `llmlab prices calc ...`
    still reaches `calc`, and `llmlab budgets --json` means `llmlab budgets list --json`.
    """

    class DefaultCommandGroup(TyperGroup):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            if args:
                if args[0] not in self.commands and args[0] not in ctx.help_option_names:
                    args = [default, *args]
            elif not self.no_args_is_help:
                args = [default]
            return super().parse_args(ctx, args)

    return DefaultCommandGroup
