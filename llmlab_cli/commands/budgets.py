"""`llmlab budgets list|set|delete`: spending limits with their status and forecast."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llmlab_cli.client import open_client
from llmlab_cli.config import load_config
from llmlab_cli.errors import CLIError, CommandGroup, default_command_group
from llmlab_cli.output import (
    JSON_HELP,
    Column,
    budget_bar,
    console,
    fitted_table,
    money,
    print_json,
    to_decimal,
)

app = CommandGroup(
    name="budgets",
    help="Spending limits: list them with status bars, set one, delete one.",
    cls=default_command_group("list"),
)

Period = Literal["daily", "weekly", "monthly"]


def budget_table(out: Console, budgets: list[dict[str, Any]]) -> Table:
    """A table of budgets: spent against the limit with a bar, and where the forecast lands."""
    columns = [
        Column("Budget"),
        Column("Period", no_wrap=True, drop=2),
        Column("Spent", numeric=True),
        Column("Limit", numeric=True),
        Column("Used", numeric=True),
        Column("", drop=3),
        Column("Forecast", numeric=True),
        Column("Runs out", no_wrap=True, drop=1),
        Column("ID", no_wrap=True),
    ]
    rows = []
    for budget in budgets:
        used = to_decimal(budget.get("percent"))
        forecast = budget.get("forecast") or {}
        scope = budget.get("project") or "all projects"
        projected = money(forecast.get("projected_usd"))
        if not forecast.get("enough_data"):
            projected = f"~{projected}"
        if budget.get("exceeded"):
            runs_out: str | Text = Text("exceeded", style="red")
        else:
            runs_out = forecast.get("runs_out_on") or "-"
        rows.append(
            [
                f"{budget['name']} ({scope})"
                + (", hard limit" if budget.get("hard_limit") else ""),
                budget["period"],
                money(budget["spent_usd"]),
                money(budget["amount_usd"]),
                f"{used:.0f}%",
                budget_bar(used),
                projected,
                runs_out,
                str(budget["id"])[:8],
            ]
        )
    return fitted_table(out, columns, rows)


def show_budgets(out: Console, budgets: list[dict[str, Any]]) -> None:
    """Print `budgets`, or how to create one when there are none."""
    if not budgets:
        out.print("No budgets yet. Create one with `llmlab budgets set 500`.")
        return
    out.print(budget_table(out, budgets))


@app.command("list")
def list_budgets(
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List budgets: spent against the limit this period, and the forecast for its end."""
    with open_client(load_config()) as client:
        budgets = client.list_budgets()
    if as_json:
        print_json(budgets)
    else:
        show_budgets(console(), budgets)


def parse_amount(value: str) -> Decimal:
    """A positive USD amount from the command line (`500`, `$1,200.50`); usage error otherwise."""
    try:
        amount = Decimal(value.lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not an amount like 500 or 99.50") from None
    if not amount.is_finite() or amount <= 0:
        raise typer.BadParameter(f"the amount must be positive, got {value!r}")
    return amount


@app.command("set")
def set_budget(
    amount: Annotated[str, typer.Argument(help="Limit in USD, e.g. 500 or 99.50.")],
    period: Annotated[Period, typer.Option(help="Budget period.")] = "monthly",
    project: Annotated[
        str | None, typer.Option(help="Limit one project (default: all projects).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name shown in alerts.")] = None,
    threshold: Annotated[
        list[int] | None,
        typer.Option(help="Alert at this percent of the limit (repeatable; default 50 80 100)."),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="URL that receives a POST when a threshold is crossed.")
    ] = None,
    hard_limit: Annotated[
        bool | None,
        typer.Option(
            "--hard-limit/--soft-limit",
            help="With a hard limit, SDK calls fail once it is spent (default: soft).",
        ),
    ] = None,
    budget_id: Annotated[
        str | None, typer.Option("--id", help="Change this budget (ID or its first characters).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create a budget, or change the one with the same project and period.

    `llmlab budgets set 500` keeps your monthly spend on all projects under $500.
    """
    limit = parse_amount(amount)
    fields: dict[str, Any] = {
        "amount_usd": limit,
        "period": period,
        "project": project,
        "name": name,
        "alert_thresholds": threshold or None,
        "webhook_url": webhook,
        "hard_limit": hard_limit,
    }
    with open_client(load_config()) as client:
        if project and project not in {p["name"] for p in client.list_projects()}:
            # A budget can watch a project before its first call is tracked.
            client.create_project(project)
        existing = client.list_budgets()
        if budget_id:
            target = _find(existing, budget_id)
        else:
            target = next(
                (b for b in existing if b.get("project") == project and b.get("period") == period),
                None,
            )
        if target is None:
            fields["name"] = name or f"{period.capitalize()} budget"
            budget = client.create_budget(**fields)
            verb = "Created"
        else:
            budget = client.update_budget(str(target["id"]), **fields)
            verb = "Updated"
    if as_json:
        print_json(budget)
        return
    out = console()
    scope = budget.get("project") or "all projects"
    out.print(
        f"{verb} {budget['period']} budget {money(budget['amount_usd'])} for {scope} "
        f"(id {str(budget['id'])[:8]})."
    )
    out.print(budget_table(out, [budget]))


@app.command("delete")
def delete_budget(
    budget_id: Annotated[str, typer.Argument(help="Budget ID, or its first characters.")],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Delete a budget (and its alert history)."""
    with open_client(load_config()) as client:
        target = _find(client.list_budgets(), budget_id)
        result = client.delete_budget(str(target["id"]))
    if as_json:
        print_json(result)
    else:
        console().print(f"Deleted budget {target['name']} ({str(target['id'])[:8]}).")


def _find(budgets: list[dict[str, Any]], budget_id: str) -> dict[str, Any]:
    wanted = budget_id.strip().lower()
    matches = [b for b in budgets if str(b["id"]).lower().startswith(wanted)] if wanted else []
    if not matches:
        raise CLIError(f"no budget with id {budget_id!r} (see `llmlab budgets list`)")
    if len(matches) > 1:
        raise CLIError(f"{budget_id!r} matches {len(matches)} budgets; give more characters")
    return matches[0]
