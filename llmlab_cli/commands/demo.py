"""`llmlab demo`: fill the account with realistic usage so every view has something to show."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmlab_cli.client import open_client, patiently
from llmlab_cli.commands.budgets import parse_amount
from llmlab_cli.config import load_config
from llmlab_cli.errors import CommandGroup
from llmlab_cli.output import JSON_HELP, console, error_console, money, print_json, progress

if TYPE_CHECKING:
    from llmlab_sdk.http import LLMLabClient

app = CommandGroup()

BATCH_SIZE = 1000


@app.command()
def demo(
    days: Annotated[
        int,
        typer.Option(
            min=1, max=365, help="Days of history to create: the N x 24 hours before now."
        ),
    ] = 90,
    seed: Annotated[
        int, typer.Option(help="Same seed, same events: running it again adds no duplicates.")
    ] = 42,
    scale: Annotated[
        float,
        typer.Option(min=0.01, max=5.0, help="Traffic multiplier (1 = about 300 calls a day)."),
    ] = 1.0,
    budget: Annotated[
        str | None,
        typer.Option(help="Monthly budget in USD (default: a bit under this month's pace)."),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option(
            help="Fill this shared organisation instead (made if missing), with a teammate "
            "who sends part of the calls with a key of their own. Needs `llmlab login`."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Fill your account with realistic demo usage through the API, and set a monthly budget.

    About 90 days of calls from five projects to OpenAI, Anthropic and Google models (cache
    hits, reasoning, long contexts, weekends, growth, one spike, a few errors and an unpriced
    self-hosted model), sent in batches of 1,000. Safe to run again. With --team, a shared
    organisation gets them, sent by two members through two keys (`llmlab costs --by key`).
    """
    from llmlab_cli.demo import demo_events

    budget_usd = parse_amount(budget) if budget is not None else None
    now = datetime.now(UTC)
    events = list(demo_events(seed=seed, days=days, now=now, scale=scale))
    config = load_config()
    with open_client(config) as client:
        if team is None:
            sent, duplicates, cost = _send(client, events)
        else:
            from llmlab_cli.commands.demo_team import send_as_team

            sent, duplicates, cost = send_as_team(
                client, config, team, events, seed=seed, send=_send
            )
        budget_status = _set_budget(client, now, budget_usd)
    report = {
        "events": sent,
        "new_events": sent - duplicates,
        "duplicates": duplicates,
        "cost_usd": cost,
        "days": days,
        "seed": seed,
        "projects": sorted({event["project"] for event in events}),
        "budget": budget_status,
    }
    if as_json:
        print_json(report)
        return
    out = console()
    period = "day" if days == 1 else f"{days} days"
    if sent == 0:
        out.print(f"No demo calls fall in the last {period} at this scale; try a larger --scale.")
    elif duplicates == sent:
        out.print(f"All {sent:,} demo events for the last {period} were already there.")
    else:
        out.print(
            f"Sent {sent - duplicates:,} new events over the last {period} costing {money(cost)}, "
            f"across {len(report['projects'])} projects"
            + (f" ({duplicates:,} were already there)." if duplicates else ".")
        )
    out.print(
        f"Monthly budget: {money(budget_status['amount_usd'])} "
        f"({money(budget_status['spent_usd'])} spent so far)."
    )
    out.print(
        "Next: `llmlab costs --by model`, `llmlab budgets`, `llmlab recommendations`, "
        f"or open {client.base_url} in a browser."
    )


def _send(client: LLMLabClient, events: list[dict[str, Any]]) -> tuple[int, int, Decimal]:
    """Send `events` in batches; returns (sent, duplicates, cost of the new ones)."""
    sent = duplicates = 0
    cost = Decimal(0)
    with progress(error_console(), unit="events") as bar:
        task = bar.add_task("Sending demo events", total=len(events))
        for batch in _batches(events, BATCH_SIZE):
            result = patiently(partial(client.track_events, batch))
            for tracked in result["events"]:
                sent += 1
                if tracked["duplicate"]:
                    duplicates += 1
                elif tracked.get("cost_usd") is not None:
                    cost += Decimal(tracked["cost_usd"])
            bar.advance(task, len(batch))
    return sent, duplicates, cost


def _batches(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _set_budget(client: LLMLabClient, now: datetime, amount: Decimal | None) -> dict[str, Any]:
    """Create or update the all-projects monthly budget; returns its status."""
    from llmlab_cli.demo import suggested_budget

    if amount is None:
        month = patiently(client.cost_summary)
        days_in_month = calendar.monthrange(now.year, now.month)[1]
        amount = Decimal(suggested_budget(float(month["total_cost_usd"]), now.day, days_in_month))
    existing = next(
        (
            b
            for b in patiently(client.list_budgets)
            if b.get("project") is None and b.get("period") == "monthly"
        ),
        None,
    )
    if existing is None:
        return patiently(
            lambda: client.create_budget(name="Monthly budget", amount_usd=amount, period="monthly")
        )
    return patiently(lambda: client.update_budget(str(existing["id"]), amount_usd=amount))
