"""`llmlab costs`: what was spent over a range of days, broken down one way."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from llmlab_cli.client import open_client
from llmlab_cli.config import load_config
from llmlab_cli.errors import CommandGroup
from llmlab_cli.output import (
    JSON_HELP,
    Column,
    console,
    count,
    fitted_table,
    money,
    percent,
    print_json,
    tokens,
)
from llmlab_cli.output import to_decimal as dec
from llmlab_cli.ranges import DAYS_HELP, END_HELP, START_HELP, day_range
from llmlab_core.pricing.names import display_name

app = CommandGroup()

Breakdown = Literal["model", "provider", "project", "day", "key", "member"]
NO_PROJECT = "(no project)"
NO_KEY = "(no API key)"
NO_MEMBER = "(no member)"


@app.command()
def costs(
    days: Annotated[int | None, typer.Option(help=DAYS_HELP, min=1)] = None,
    start: Annotated[str | None, typer.Option(help=START_HELP)] = None,
    end: Annotated[str | None, typer.Option(help=END_HELP)] = None,
    by: Annotated[
        Breakdown,
        typer.Option(
            help="Break the spend down by this (`key`: per API key with who created it; "
            "`member`: per member who created the keys)."
        ),
    ] = "model",
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Spend table for a range of days (default: this calendar month, UTC).

    Money is in USD at the price in force when each call was made. Calls to models without a
    known price are counted and flagged, never shown as $0.
    """
    span = day_range(days, start, end)
    with open_client(load_config()) as client:
        summary = client.cost_summary(
            start=span.start,
            end=span.end,
            project=project,
            group_by="key" if by in ("key", "member") else None,
        )
    if as_json:
        print_json(summary)
        return
    out = console()
    out.print(spend_table(out, summary, by))
    unpriced = int(summary.get("unpriced_calls") or 0)
    if unpriced:
        out.print(
            f"{unpriced:,} call(s) to models without a known price are not in the total "
            "(see the Unpriced column; add a price override to bill them)."
        )


def spend_table(out: Console, summary: dict[str, Any], by: Breakdown) -> Table:
    """The summary's `by_<by>` rows as a table, most expensive first, with a totals row."""
    rows = _rows(summary, by)
    with_unpriced = any(row.get("unpriced_calls") for row in rows)
    label = {
        "model": "Model",
        "provider": "Provider",
        "project": "Project",
        "day": "Day",
        "key": "API key (created by)",
        "member": "Member",
    }[by]
    columns = [
        Column(label, no_wrap=True),
        Column("Calls", numeric=True),
        *([Column("Unpriced", numeric=True)] if with_unpriced else []),
        Column("Input", numeric=True, drop=2),
        Column("Cached", numeric=True, drop=4),
        Column("Output", numeric=True, drop=3),
        Column("Cost", numeric=True),
        Column("Share", numeric=True, drop=1),
    ]
    total = dec(summary.get("total_cost_usd"))
    models = [row.get("model") for row in rows]
    scope = f", project {summary['project']}" if summary.get("project") else ""
    return fitted_table(
        out,
        columns,
        [[_label(row, by, models), *_numbers(row, total, with_unpriced)] for row in rows],
        title=f"Spend from {summary['start']} to {summary['end']}{scope}",
        total=["Total", *_numbers(summary, total, with_unpriced)],
    )


def _rows(summary: dict[str, Any], by: Breakdown) -> list[dict[str, Any]]:
    rows = list(summary.get(f"by_{by}") or [])
    if by == "day":
        return rows
    return sorted(rows, key=lambda r: (dec(r.get("cost_usd")), r.get("calls", 0)), reverse=True)


def _label(row: dict[str, Any], by: Breakdown, models: list[str | None]) -> str:
    if by == "model":
        # Named as the calls name it (a canonical id with several names lists them); the
        # provider only matters when one model is reached through several.
        recorded = [variant["model"] for variant in row.get("variants") or []]
        name = display_name(row["model"], recorded)
        shared = models.count(row["model"]) > 1
        return f"{name} ({row['provider']})" if shared else name
    if by == "project":
        return row.get("project") or NO_PROJECT
    if by == "key":
        if not row.get("key_id"):
            return NO_KEY
        creator = (row.get("created_by") or {}).get("email") or "deleted account"
        revoked = ", revoked" if row.get("revoked") else ""
        return f"{row['name']} ({creator}{revoked})"
    if by == "member":
        return (row.get("member") or {}).get("email") or NO_MEMBER
    return str(row[by])


def _numbers(row: dict[str, Any], total: Any, with_unpriced: bool) -> list[str]:
    calls, unpriced = int(row.get("calls") or 0), int(row.get("unpriced_calls") or 0)
    cost = dec(row.get("cost_usd"))
    # A row made only of unpriced calls has no cost, which is not the same as costing $0.
    shown_cost = "unpriced" if calls and unpriced == calls else money(cost)
    cells = [
        count(calls),
        tokens(row.get("input_tokens")),
        tokens(row.get("cache_read_tokens")),
        tokens(row.get("output_tokens")),
        shown_cost,
        percent(cost, total),
    ]
    if with_unpriced:
        cells.insert(1, count(unpriced) if unpriced else "")
    return cells
