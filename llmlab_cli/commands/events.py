"""`llmlab events`, `llmlab export` and `llmlab track`: single calls, read and written."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal

import typer

from llmlab_cli.client import open_client
from llmlab_cli.config import load_config
from llmlab_cli.errors import CLIError, CommandGroup
from llmlab_cli.output import (
    JSON_HELP,
    Column,
    call_cost,
    console,
    error_console,
    fitted_table,
    money,
    print_json,
    progress,
    tokens,
)
from llmlab_cli.ranges import DAYS_HELP, END_HELP, START_HELP, DayRange, day_range
from llmlab_core.periods import today_utc

if TYPE_CHECKING:
    from llmlab_sdk.http import LLMLabClient

app = CommandGroup()

PAGE_SIZE = 1000
SUMMARY_MAX_DAYS = 3_650

DaysOption = Annotated[int | None, typer.Option(help=DAYS_HELP, min=1)]
StartOption = Annotated[str | None, typer.Option(help=START_HELP)]
EndOption = Annotated[str | None, typer.Option(help=END_HELP)]
ProjectOption = Annotated[str | None, typer.Option(help="Only this project.")]
ModelOption = Annotated[str | None, typer.Option(help="Only this model.")]
ProviderOption = Annotated[str | None, typer.Option(help="Only this provider.")]
EndUserOption = Annotated[str | None, typer.Option(help="Only calls made for this end user.")]
TagOption = Annotated[str | None, typer.Option(help="Only calls with this tag.")]


def _filters(
    span: DayRange,
    project: str | None,
    model: str | None,
    provider: str | None,
    end_user: str | None,
    tag: str | None,
) -> dict[str, Any]:
    start, end = span.instants()
    return {
        "start": start,
        "end": end,
        "project": project,
        "model": model,
        "provider": provider,
        "end_user": end_user,
        "tag": tag,
    }


@app.command()
def events(
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="How many events, newest first.")
    ] = 20,
    days: DaysOption = None,
    start: StartOption = None,
    end: EndOption = None,
    project: ProjectOption = None,
    model: ModelOption = None,
    provider: ProviderOption = None,
    end_user: EndUserOption = None,
    tag: TagOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Recent calls, newest first, with their tokens and cost."""
    filters = _filters(day_range(days, start, end), project, model, provider, end_user, tag)
    with open_client(load_config()) as client:
        items = list(_newest(client, filters, limit))
    if as_json:
        print_json(items)
        return
    if not items:
        console().print("No events match. Send some with `llmlab track` or `llmlab demo`.")
        return
    out = console()
    columns = [
        Column("Time (UTC)", no_wrap=True),
        Column("Project", drop=2),
        Column("Model"),
        Column("Input", numeric=True),
        Column("Cached", numeric=True, drop=3),
        Column("Output", numeric=True),
        Column("Cost", numeric=True),
        Column("Latency", numeric=True, drop=4),
        Column("Status", drop=1),
    ]
    rows = [
        [
            item["timestamp"][:16].replace("T", " "),
            item.get("project") or "",
            item["model"],
            tokens(item["input_tokens"]),
            tokens(item["cache_read_tokens"]),
            tokens(item["output_tokens"]),
            "unpriced" if item.get("unpriced") else call_cost(item.get("cost_usd")),
            f"{item['latency_ms'] / 1000:.1f} s" if item.get("latency_ms") is not None else "",
            item["status"],
        ]
        for item in items
    ]
    styles = ["red" if item["status"] == "error" else None for item in items]
    out.print(fitted_table(out, columns, rows, styles=styles))


def _newest(client: LLMLabClient, filters: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
    cursor = None
    remaining = limit
    while remaining > 0:
        page = client.list_events(**filters, limit=min(remaining, PAGE_SIZE), cursor=cursor)
        items = page.get("items") or []
        yield from items
        remaining -= len(items)
        cursor = page.get("next_cursor")
        if not cursor or not items:
            return


@app.command()
def export(
    out: Annotated[
        str, typer.Option("--out", "-o", help="File to write, or - for standard output.")
    ],
    export_format: Annotated[
        Literal["csv", "jsonl"],
        typer.Option(
            "--format", help="csv (one row per call) or jsonl (one JSON object per line)."
        ),
    ] = "csv",
    days: DaysOption = None,
    start: StartOption = None,
    end: EndOption = None,
    project: ProjectOption = None,
    model: ModelOption = None,
    provider: ProviderOption = None,
    end_user: EndUserOption = None,
    tag: TagOption = None,
) -> None:
    """Export every matching call to a file (all time unless a range is given).

    Large exports are streamed, never held in memory, with a progress bar on a terminal.
    """
    span = day_range(days, start, end)
    filters = _filters(span, project, model, provider, end_user, tag)
    notes = error_console()
    with open_client(load_config()) as client:
        expected = _expected_count(client, span, filters)
        with _open_output(out) as file, progress(notes, unit="events") as bar:
            task = bar.add_task("Exporting", total=expected)
            if export_format == "csv":
                written = _write_csv(client, filters, file, lambda n: bar.advance(task, n))
            else:
                written = _write_jsonl(client, filters, file, lambda n: bar.advance(task, n))
    where = "standard output" if out == "-" else out
    notes.print(f"Exported {written:,} events to {where} ({export_format}).")


def _expected_count(client: LLMLabClient, span: DayRange, filters: dict[str, Any]) -> int | None:
    """How many events the export will hold, when the summary can tell (else None)."""
    if any(filters[name] for name in ("model", "provider", "end_user", "tag")):
        return None
    # Open ends: the longest range the summary accepts, ending today; it only sizes the bar.
    last = span.end or today_utc()
    first = span.start or last - timedelta(days=SUMMARY_MAX_DAYS)
    summary = client.cost_summary(start=first, end=last, project=filters["project"])
    return int(summary.get("calls") or 0)


@contextlib.contextmanager
def _open_output(out: str) -> Iterator[IO[bytes]]:
    if out == "-":
        yield sys.stdout.buffer
        return
    path = Path(out).expanduser()
    try:
        file = path.open("wb")
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror}") from exc
    with file:
        yield file


def _write_csv(client: LLMLabClient, filters: dict[str, Any], file: IO[bytes], advance: Any) -> int:
    lines = 0
    for chunk in client.export_events_csv(**filters):
        file.write(chunk)
        newlines = chunk.count(b"\n")
        # The header line is not an event.
        advance(newlines - (1 if lines == 0 and newlines else 0))
        lines += newlines
    return max(0, lines - 1)


def _write_jsonl(
    client: LLMLabClient, filters: dict[str, Any], file: IO[bytes], advance: Any
) -> int:
    written = 0
    for item in client.iter_events(**filters, limit=PAGE_SIZE):
        file.write(json.dumps(item, ensure_ascii=False).encode() + b"\n")
        written += 1
        advance(1)
    return written


@app.command()
def track(
    model: Annotated[str, typer.Option(help="Model called, e.g. gpt-4o.")],
    input_tokens: Annotated[
        int, typer.Option("--input", min=0, help="Input tokens in total, cached ones included.")
    ] = 0,
    output_tokens: Annotated[
        int, typer.Option("--output", min=0, help="Output tokens, reasoning included.")
    ] = 0,
    cached: Annotated[int, typer.Option(min=0, help="Input tokens read from the cache.")] = 0,
    cache_write: Annotated[int, typer.Option(min=0, help="Input tokens written to the cache.")] = 0,
    cache_write_1h: Annotated[
        int,
        typer.Option(
            "--cache-write-1h", min=0, help="Of --cache-write, those written to the 1-hour cache."
        ),
    ] = 0,
    tier: Annotated[
        str, typer.Option("--tier", help="Service tier: standard, batch, flex or priority.")
    ] = "standard",
    reasoning: Annotated[int, typer.Option(min=0, help="Reasoning tokens (part of --output).")] = 0,
    provider: Annotated[str | None, typer.Option(help="Provider; guessed from the model.")] = None,
    project: Annotated[str | None, typer.Option(help="Project (created on first use).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    end_user: Annotated[str | None, typer.Option(help="Your end user the call was for.")] = None,
    cost: Annotated[
        str | None, typer.Option(help="Cost in USD as the provider reported it (kept as is).")
    ] = None,
    latency_ms: Annotated[int | None, typer.Option(min=0, help="Duration of the call.")] = None,
    error: Annotated[bool, typer.Option("--error", help="The call failed.")] = False,
    event_id: Annotated[
        str | None, typer.Option(help="Idempotency key: sending it again never counts twice.")
    ] = None,
    timestamp: Annotated[
        str | None, typer.Option(help="When the call was made, ISO 8601 (default: now).")
    ] = None,
    metadata: Annotated[str | None, typer.Option(help="A JSON object stored with it.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Record one LLM call by hand (for scripts and tests); prints what it cost."""
    event: dict[str, Any] = {
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cached,
        "cache_write_tokens": cache_write,
        "cache_write_1h_tokens": cache_write_1h,
        "reasoning_tokens": reasoning,
        "service_tier": tier,
        "status": "error" if error else "success",
        "tags": tag or [],
    }
    optional = {
        "provider": provider,
        "project": project,
        "end_user": end_user,
        "cost_usd": _cost(cost),
        "latency_ms": latency_ms,
        "event_id": event_id,
        "timestamp": timestamp,
        "metadata": _metadata(metadata),
    }
    event |= {name: value for name, value in optional.items() if value is not None}
    with open_client(load_config()) as client:
        result = client.track_event(event)
    if as_json:
        print_json(result)
        return
    tracked = result["events"][0]
    out = console()
    if tracked["duplicate"]:
        out.print(f"Already tracked (event {tracked['event_id']}); not counted again.")
    elif tracked["unpriced"]:
        out.print(f"Tracked {model}: unpriced, no known price (event {tracked['event_id']}).")
    else:
        out.print(
            f"Tracked {model}: {money(tracked['cost_usd'], exact=True)} "
            f"(event {tracked['event_id']})."
        )
    for budget in result.get("budgets") or []:
        if budget.get("exceeded"):
            out.print(
                f"Budget {budget['name']} is exceeded: "
                f"{money(budget['spent_usd'])} of {money(budget['amount_usd'])}.",
                style="red",
            )


def _cost(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except ArithmeticError:
        raise typer.BadParameter(f"{value!r} is not an amount", param_hint="--cost") from None
    if not amount.is_finite() or amount < 0:
        raise typer.BadParameter(f"{value!r} is not a cost", param_hint="--cost")
    return str(amount)


def _metadata(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc.msg}", param_hint="--metadata") from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--metadata")
    return parsed
