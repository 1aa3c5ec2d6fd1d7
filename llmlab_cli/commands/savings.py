"""`llmlab recommendations` and `llmlab whatif`: where the money could be saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.text import Text

from llmlab_cli.client import open_client
from llmlab_cli.config import load_config
from llmlab_cli.errors import CommandGroup
from llmlab_cli.output import JSON_HELP, console, count, money, print_json, table, to_decimal
from llmlab_cli.ranges import DAYS_HELP, END_HELP, START_HELP, day_range

app = CommandGroup()

DEFAULT_DAYS = 30


@app.command()
def recommendations(
    days: Annotated[
        int, typer.Option(min=1, max=365, help="Days of usage analysed, ending today.")
    ] = DEFAULT_DAYS,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Ways to spend less, largest monthly savings first, with the evidence behind each."""
    with open_client(load_config()) as client:
        found = client.recommendations(days=days, project=project)
    if as_json:
        print_json(found)
        return
    out = console()
    if not found:
        out.print(f"No recommendations from the last {days} days of usage.")
        return
    out.print(
        Text.assemble(
            ("Ways to save", "bold"),
            f", from the last {days} days of usage (dollars per 30 days, largest first):\n",
        )
    )
    for rank, found_one in enumerate(found, start=1):
        saving = found_one.get("monthly_savings_usd")
        evidence = found_one.get("evidence") or {}
        monthly_spend = to_decimal(evidence.get("spend_usd")) * 30 / max(1, evidence["days"])
        headline = f"saves {money(saving)}/month" if saving is not None else "spend not counted"
        out.print(
            Text.assemble(f"{rank:>2}. ", (found_one["title"], "bold"), " — ", (headline, "green"))
        )
        out.print(f"    {found_one['action']}", style="dim" if saving is None else None)
        basis = f"{count(evidence.get('calls'))} calls"
        if saving is not None:
            basis += f", {money(monthly_spend)}/month now"
        out.print(f"    {found_one['confidence']} confidence; based on {basis}.\n")
    out.print(
        "Savings of one model can overlap (switching and caching the same calls). "
        "Check one against your own data with `llmlab whatif --from MODEL --to MODEL`."
    )


@app.command()
def whatif(
    from_model: Annotated[str, typer.Option("--from", help="Model the calls went to.")],
    to_model: Annotated[str, typer.Option("--to", help="Model they could go to instead.")],
    share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of those calls moved, 0 to 1.")
    ] = 1.0,
    days: Annotated[int | None, typer.Option(help=DAYS_HELP, min=1)] = None,
    start: Annotated[str | None, typer.Option(help=START_HELP)] = None,
    end: Annotated[str | None, typer.Option(help=END_HELP)] = None,
    to_provider: Annotated[
        str | None, typer.Option(help="Provider of --to; guessed from the name.")
    ] = None,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """What the spend would have been had a share of one model's calls gone to another.

    The moved calls keep their token counts and are billed at the other model's prices in
    force on each day. Default range: the last 30 days.
    """
    span = day_range(days, start, end, default_days=DEFAULT_DAYS)
    with open_client(load_config()) as client:
        result = client.whatif(
            from_model=from_model,
            to_model=to_model,
            to_provider=to_provider,
            share=str(Decimal(str(share))),
            start=span.start,
            end=span.end,
            project=project,
        )
    if as_json:
        print_json(result)
        return
    _show_whatif(result)


def _show_whatif(result: dict[str, Any]) -> None:
    old, new = to_decimal(result["old_cost_usd"]), to_decimal(result["new_cost_usd"])
    saved = to_decimal(result["savings_usd"])
    moved = f"{to_decimal(result['share']) * 100:.0f}%"
    out = console()
    out.print(
        f"What if {moved} of the {result['from_model']} calls had gone to {result['to_model']}, "
        f"{result['start']} to {result['end']}:"
    )
    rows = table("", "Cost", numeric=("Cost",))
    rows.add_row("Spend as recorded (all models)", money(old))
    rows.add_row(f"With the switch ({count(result['calls_moved'])} calls moved)", money(new))
    rows.add_section()
    label = "Saved" if saved >= 0 else "Extra cost"
    share_saved = f" ({saved / old * 100:.1f}%)" if old else ""
    rows.add_row(label, f"{money(abs(saved))}{share_saved}", style="bold")
    out.print(rows)
