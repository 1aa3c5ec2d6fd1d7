"""`llmlab prices MODEL` and `llmlab prices calc`: prices from the bundled dataset, offline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from llmlab_cli.errors import CLIError, CommandGroup, default_command_group
from llmlab_cli.output import JSON_HELP, console, count, money, per_million, print_json, table

app = CommandGroup(
    name="prices",
    help="Model prices from the bundled dataset (no server needed).",
    cls=default_command_group("show"),
    no_args_is_help=True,
)

ModelArgument = Annotated[str, typer.Argument(help="Model name, e.g. gpt-4o or a dated id.")]
ProviderOption = Annotated[
    str | None,
    typer.Option(help="Provider (openai, anthropic, google, ...); guessed from the name."),
]
Tokens = Annotated[int, typer.Option(min=0)]


@app.command("show")
def show(
    model: ModelArgument,
    provider: ProviderOption = None,
    at: Annotated[
        str | None, typer.Option(help="Prices in force on this date, YYYY-MM-DD (default: now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Per-million-token prices of MODEL: input, cached input, cache writes, output, tiers."""
    from llmlab_core import model_prices

    prices = model_prices(model, provider=provider, at=_when(at))
    if as_json:
        print_json({"model": model, **prices.model_dump(mode="json")})
        return
    out = console()
    rows = table(
        "Prices per 1M tokens",
        "Input",
        "Cached input",
        "Cache write",
        "Output",
        title=f"{prices.provider} {prices.canonical_model}  ({prices.price_source})",
        numeric=("Input", "Cached input", "Cache write", "Output"),
    )
    rows.add_row(
        "standard",
        per_million(prices.input),
        per_million(prices.cache_read),
        per_million(prices.cache_write),
        per_million(prices.output),
    )
    for tier in prices.tiers:
        rows.add_row(
            f"above {tier.threshold:,} input tokens",
            per_million(tier.input),
            per_million(tier.cache_read),
            per_million(tier.cache_write),
            per_million(tier.output),
        )
    out.print(rows)


@app.command("calc")
def calc(
    model: ModelArgument,
    input_tokens: Annotated[
        int, typer.Option("--input", min=0, help="Input tokens in total, cached ones included.")
    ] = 0,
    output_tokens: Annotated[
        int, typer.Option("--output", min=0, help="Output tokens, reasoning included.")
    ] = 0,
    cached: Annotated[int, typer.Option(min=0, help="Input tokens read from the cache.")] = 0,
    cache_write: Annotated[int, typer.Option(min=0, help="Input tokens written to the cache.")] = 0,
    reasoning: Annotated[int, typer.Option(min=0, help="Reasoning tokens (part of --output).")] = 0,
    provider: ProviderOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """What one call to MODEL costs with these token counts, at today's prices."""
    from llmlab_core import Usage, price_usage

    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cached,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
    )
    result = price_usage(model, usage, provider=provider)
    if result.unpriced or result.cost_usd is None:
        where = f" for provider {result.provider!r}" if result.provider else ""
        raise CLIError(f"no price known for model {model!r}{where} (see `llmlab prices --help`)")
    if as_json:
        print_json(
            {
                "model": model,
                "provider": result.provider,
                "canonical_model": result.canonical_model,
                "price_source": result.price_source,
                "usage": usage.model_dump(),
                "cost_usd": result.cost_usd,
                "breakdown": result.breakdown,
            }
        )
        return
    rows = table(
        "Part",
        "Tokens",
        "Cost",
        title=f"{result.provider} {result.canonical_model}  ({result.price_source})",
        numeric=("Tokens", "Cost"),
    )
    parts = {
        "input": ("Uncached input", input_tokens - cached - cache_write),
        "cache_read": ("Cache reads", cached),
        "cache_write": ("Cache writes", cache_write),
        "output": ("Output", output_tokens),
    }
    for kind, (label, tokens) in parts.items():
        if tokens or kind in ("input", "output"):
            rows.add_row(label, count(tokens), money(result.breakdown.get(kind, 0), exact=True))
    rows.add_section()
    rows.add_row(
        "Total",
        count(input_tokens + output_tokens),
        money(result.cost_usd, exact=True),
        style="bold",
    )
    console().print(rows)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    from llmlab_cli.ranges import parse_day

    day = parse_day(value)
    assert day is not None
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC)
