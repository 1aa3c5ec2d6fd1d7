"""`llmlab prices`: model prices from the bundled dataset and its reviewed corrections, offline.

`LLMLAB_PRICES_FILE` (a genai-prices data.json) replaces the bundled dataset here as on the
server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from llmlab_cli.errors import CLIError, CommandGroup
from llmlab_cli.output import (
    JSON_HELP,
    console,
    count,
    money,
    per_million,
    print_json,
    table,
    to_decimal,
)
from llmlab_cli.ranges import END_HELP, START_HELP, day_range

if TYPE_CHECKING:
    from llmlab_core.pricing import ModelPrices

COMMANDS_HELP = (
    "Model prices from the bundled dataset and LLMLab's reviewed corrections "
    "(no server needed).\n\n"
    "`llmlab prices` lists the known models (`--search sonnet` filters them); "
    "`llmlab prices MODEL` shows one model's prices; `resolve NAME` shows how a name resolves "
    "and where its price comes from; `calc` prices one call; `check` lists the corrections; "
    "`reprice --start DAY` re-prices the events stored on the server."
)


class _PricesGroup(TyperGroup):
    """No arguments or options first: `list`; a model name first: `show`; else the command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        elif args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = CommandGroup(name="prices", help=COMMANDS_HELP, cls=_PricesGroup, no_args_is_help=False)

ModelArgument = Annotated[str, typer.Argument(help="Model name, e.g. gpt-4o or a dated id.")]
ProviderOption = Annotated[
    str | None,
    typer.Option(help="Provider (openai, anthropic, google, ...); guessed from the name."),
]
AtOption = Annotated[
    str | None, typer.Option(help="Prices in force on this date, YYYY-MM-DD (default: now).")
]
TierOption = Annotated[
    str,
    typer.Option(
        "--tier",
        help="Service tier: standard, batch (Batch API), flex or priority.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
PRICE_COLUMNS = ("Input", "Cached input", "Cache write", "1h cache write", "Output")


@app.command("list")
def list_models(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Only models whose id contains this.")
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(help="Only this provider (any genai-prices provider id, e.g. groq)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The known models with their prices per 1M tokens (default: OpenAI, Anthropic, Google)."""
    _use_configured_prices_file()
    from llmlab_core.pricing import list_models as known_models

    found = known_models(search=search, provider=provider)
    if as_json:
        print_json([_prices_json(prices) for prices in found])
        return
    if not found:
        raise CLIError(
            f"no model matches {search!r}" if search else f"no models for provider {provider!r}"
        )
    rows = table(
        "Model",
        "Provider",
        "Input",
        "Cached input",
        "Output",
        title="Prices per 1M tokens",
        numeric=("Input", "Cached input", "Output"),
        no_wrap=("Model",),
    )
    for prices in found:
        rows.add_row(
            Text(prices.canonical_model),
            prices.provider,
            per_million(prices.input),
            per_million(prices.cache_read),
            per_million(prices.output),
        )
    console().print(rows)


@app.command("show")
def show(
    model: ModelArgument,
    provider: ProviderOption = None,
    at: AtOption = None,
    tier: TierOption = "standard",
    as_json: JsonOption = False,
) -> None:
    """Per-million-token prices of MODEL: input, cached input, cache writes, output, tiers."""
    _use_configured_prices_file()
    from llmlab_core import model_prices

    prices = model_prices(model, provider=provider, at=_when(at), service_tier=_tier(tier))
    if as_json:
        print_json({"model": model, **prices.model_dump(mode="json")})
        return
    title = (
        f"{prices.provider} {prices.canonical_model}  ({_tier_label(prices)}{prices.price_source})"
    )
    console().print(_prices_table(prices, title=title))


@app.command("resolve")
def resolve(
    name: Annotated[str, typer.Argument(help="A model name as your client reports it.")],
    provider: ProviderOption = None,
    at: AtOption = None,
    tier: TierOption = "standard",
    as_json: JsonOption = False,
) -> None:
    """How NAME resolves: its canonical model id and provider, the price entry and its source.

    The first thing to run when a cost looks wrong: it shows which model a name was priced as.
    """
    _use_configured_prices_file()
    from llmlab_core import resolve_model

    resolved = resolve_model(name, provider, at=_when(at), service_tier=_tier(tier))
    if resolved is None:
        where = f" for provider {provider!r}" if provider else ""
        raise CLIError(f"{name!r} resolves to no priced model{where}: its calls are unpriced")
    if as_json:
        print_json(
            {
                "name": resolved.name,
                "provider": resolved.provider,
                "canonical_model": resolved.canonical_model,
                "lookup_name": resolved.lookup_name,
                "source": resolved.source,
                "service_tier": tier,
                "prices": resolved.prices.model_dump(mode="json") if resolved.prices else None,
            }
        )
        return
    out = console()
    facts = table("Fact", "Value", no_wrap=("Fact",))
    facts.show_header = False
    facts.add_row("Name", Text(name))
    facts.add_row("Canonical model", Text(resolved.canonical_model))
    facts.add_row("Provider", Text(resolved.provider))
    if resolved.lookup_name != name:
        facts.add_row("Looked up as", Text(resolved.lookup_name))
    facts.add_row("Price source", Text(_source_label(resolved)))
    out.print(facts)
    if resolved.prices is None:
        out.print(f"No {tier} price is known: calls in that tier are unpriced.")
        return
    out.print(_prices_table(resolved.prices, title=f"Prices per 1M tokens ({tier})"))


@app.command("check")
def check(as_json: JsonOption = False) -> None:
    """Every place LLMLab's reviewed corrections differ from the dataset in use, with sources.

    A correction the dataset has caught up with is listed as dead: it can be deleted.
    """
    _use_configured_prices_file()
    from llmlab_core.pricing import corrections, dataset

    overlay = corrections.load_overlay()
    found = corrections.differences(dataset.base_providers(), overlay)
    skipped = dataset.skipped_corrections()
    differing = {diff.correction_id for diff in found}
    dead = [entry.id for entry in overlay.corrections if entry.id not in differing]
    if as_json:
        print_json(
            {
                "dataset": dataset.dataset_info().name,
                "differences": [
                    {
                        "correction": diff.correction_id,
                        "provider": diff.provider,
                        "model": diff.model,
                        "when": diff.when,
                        "field": diff.field,
                        "dataset": diff.dataset,
                        "overlay": diff.overlay,
                        "sources": [source.model_dump(mode="json") for source in diff.sources],
                    }
                    for diff in found
                ],
                "tier_rules": [rule.model_dump(mode="json") for rule in overlay.tier_rules],
                "one_hour_write_rules": [
                    rule.model_dump(mode="json") for rule in overlay.one_hour_write_rules
                ],
                "dead": dead,
                "skipped": skipped,
            }
        )
        return
    out = console()
    rows = table(
        "Correction",
        "Model",
        "Field",
        "Dataset",
        "Overlay",
        "Checked against",
        title=f"Corrections to {dataset.dataset_info().name}",
        no_wrap=("Field",),
    )
    for diff in found:
        source = diff.sources[0]
        rows.add_row(
            diff.correction_id,
            f"{diff.provider}/{diff.model}" + (f" {diff.when}" if diff.when else ""),
            diff.field,
            diff.dataset or "-",
            diff.overlay or "-",
            f"{source.url or source.table} ({source.checked})",
        )
    out.print(rows)
    rules = table("Rule", "Applies to", "Price", title="Rules for prices the dataset lacks")
    for rule in overlay.tier_rules:
        rules.add_row(
            rule.id, f"{rule.provider} {rule.service_tier} tier", f"{rule.factor} x standard"
        )
    for one_hour in overlay.one_hour_write_rules:
        rules.add_row(
            one_hour.id,
            f"*{one_hour.model_contains}* without a 1-hour write price",
            f"1-hour writes at {one_hour.factor} x input",
        )
    out.print(rules)
    if dead:
        out.print(f"Dead (the dataset now agrees; delete them): {', '.join(dead)}")
    if skipped:
        out.print(f"Not applied (model or provider missing from the dataset): {', '.join(skipped)}")


@app.command("reprice")
def reprice(
    start: Annotated[str, typer.Option(help=START_HELP)],
    end: Annotated[str | None, typer.Option(help=END_HELP + " Default: today.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model (any of its names).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Re-price the events already stored on the server from START on, with the prices in force
    at each event's time (after an override or correction with a past date). Safe to repeat;
    costs your client reported are kept."""
    from llmlab_cli.client import open_client
    from llmlab_cli.config import load_config

    span = day_range(None, start, end)
    with open_client(load_config()) as client:
        result = client.reprice(start=span.start, end=span.end, model=model)
    if as_json:
        print_json(result)
        return
    before, after = to_decimal(result["before_usd"]), to_decimal(result["after_usd"])
    console().print(
        f"Re-priced {count(result['events'])} events from {result['start']} to {result['end']}"
        f" ({count(result['changed'])} changed): {money(before)} -> {money(after)}."
    )


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
    cache_write: Annotated[
        int, typer.Option(min=0, help="Input tokens written to the cache (both lifetimes).")
    ] = 0,
    cache_write_1h: Annotated[
        int,
        typer.Option(
            "--cache-write-1h", min=0, help="Of --cache-write, those written to the 1-hour cache."
        ),
    ] = 0,
    reasoning: Annotated[int, typer.Option(min=0, help="Reasoning tokens (part of --output).")] = 0,
    provider: ProviderOption = None,
    tier: TierOption = "standard",
    as_json: JsonOption = False,
) -> None:
    """What one call to MODEL costs with these token counts, at today's prices."""
    _use_configured_prices_file()
    from pydantic import ValidationError

    from llmlab_core import Usage, price_usage

    try:
        usage = Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cached,
            cache_write_tokens=cache_write,
            cache_write_1h_tokens=cache_write_1h,
            reasoning_tokens=reasoning,
        )
    except ValidationError as exc:
        raise CLIError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    result = price_usage(model, usage, provider=provider, service_tier=_tier(tier))
    if result.unpriced or result.cost_usd is None:
        where = f" for provider {result.provider!r}" if result.provider else ""
        kind = "" if tier == "standard" else f"{tier} "
        raise CLIError(
            f"no {kind}price known for model {model!r}{where} (see `llmlab prices resolve NAME`)"
        )
    if as_json:
        print_json(
            {
                "model": model,
                "provider": result.provider,
                "canonical_model": result.canonical_model,
                "price_source": result.price_source,
                "service_tier": tier,
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
        numeric=("Tokens", "Cost"),
    )
    rows.title = Text(f"{result.provider} {result.canonical_model}  ({result.price_source})")
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


def _prices_table(prices: ModelPrices, *, title: str) -> Any:
    rows = table("Prices per 1M tokens", *PRICE_COLUMNS, numeric=PRICE_COLUMNS)
    rows.title = Text(title)
    rows.add_row(
        "standard" if prices.service_tier == "standard" else prices.service_tier,
        per_million(prices.input),
        per_million(prices.cache_read),
        per_million(prices.cache_write),
        per_million(prices.cache_write_1h),
        per_million(prices.output),
    )
    for tier in prices.tiers:
        rows.add_row(
            f"above {tier.threshold:,} input tokens",
            per_million(tier.input),
            per_million(tier.cache_read),
            per_million(tier.cache_write),
            per_million(tier.cache_write_1h),
            per_million(tier.output),
        )
    return rows


def _prices_json(prices: ModelPrices) -> dict[str, Any]:
    return {
        "model": prices.canonical_model,
        "provider": prices.provider,
        "input_per_mtok": prices.input,
        "cache_read_per_mtok": prices.cache_read,
        "cache_write_per_mtok": prices.cache_write,
        "cache_write_1h_per_mtok": prices.cache_write_1h,
        "output_per_mtok": prices.output,
        "price_source": prices.price_source,
    }


def _source_label(resolved: Any) -> str:
    """`overlay: ft-gpt-4.1`, `dataset: genai-prices 0.2.3`, `prices file: prices file DATE`."""
    if resolved.prices is None:
        return resolved.source
    detail = resolved.prices.price_source.removeprefix("overlay:")
    return f"{resolved.source}: {detail}"


def _tier_label(prices: ModelPrices) -> str:
    return "" if prices.service_tier == "standard" else f"{prices.service_tier}, "


def _tier(value: str) -> Any:
    from llmlab_core.pricing import SERVICE_TIERS

    if value not in SERVICE_TIERS:
        raise CLIError(f"unknown service tier {value!r}: use one of {', '.join(SERVICE_TIERS)}")
    return value


def _use_configured_prices_file() -> None:
    from llmlab_cli.config import prices_file

    path = prices_file()
    if path is not None:
        from llmlab_core.pricing import use_prices_file

        use_prices_file(path)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    from llmlab_cli.ranges import parse_day

    day = parse_day(value)
    assert day is not None
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC)
