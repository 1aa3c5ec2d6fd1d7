"""How results look: rich tables for people, `--json` for scripts, progress on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

JSON_HELP = "Print the result as JSON (money as decimal strings)."
BAR_WIDTH = 12


PIPE_WIDTH = 160


def console() -> Console:
    """A console on stdout (looked up at each call, so test runners can capture it).

    Piped output gets a wide page instead of rich's 80 columns, so cells are not cut short.
    Markup is off: model, project and budget names are printed as they are; styled output
    is built from `rich.text.Text`.
    """
    out = Console(highlight=False, markup=False)
    if not out.is_terminal:
        out.width = max(out.width, PIPE_WIDTH)
    return out


def error_console() -> Console:
    """A console on stderr, for progress and notes that must not mix with `--json` output."""
    return Console(stderr=True, highlight=False, markup=False)


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout; Decimals become strings, like the API sends them."""
    typer.echo(json.dumps(data, indent=2, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot turn {type(value).__name__} into JSON")


def to_decimal(value: Any) -> Decimal:
    """An API money string (or None) as a Decimal; None and garbage count as zero."""
    if value is None:
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def money(value: Any, *, exact: bool = False) -> str:
    """`$1,234.56`; amounts under a cent keep 4 significant digits (`$0.0035`) so a cheap call
    never reads as $0.00. `exact` shows every digit the server sent."""
    amount = to_decimal(value)
    if amount == 0:
        return "$0.00"
    if exact:
        amount = amount.normalize()
        if int(amount.as_tuple().exponent) > -2:
            amount = amount.quantize(Decimal("0.01"))
        return f"${amount:,f}"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= Decimal("0.01"):
        return f"{sign}${amount.quantize(Decimal('0.01')):,}"
    amount = amount.normalize()
    return f"{sign}${amount:.4g}" if amount >= Decimal("0.0001") else f"{sign}${amount:.2e}"


def call_cost(value: Any) -> str:
    """The cost of one call with a fixed six decimals, so a column of them lines up."""
    return f"${to_decimal(value):.6f}"


def per_million(value: Any) -> str:
    """A per-million-token price with every digit of the dataset (`$0.075`), or `-` if none."""
    return "-" if value is None else money(value, exact=True)


def count(value: Any) -> str:
    """An integer with thousands separators."""
    return f"{int(value or 0):,}"


def tokens(value: Any) -> str:
    """A token count kept short for tables: `9,999`, `12.3k`, `8.92M` (JSON has exact ones)."""
    number = int(value or 0)
    if number < 10_000:
        return f"{number:,}"
    if number < 1_000_000:
        return f"{number / 1_000:.1f}k"
    if number < 1_000_000_000:
        return f"{number / 1_000_000:.2f}M"
    return f"{number / 1_000_000_000:.2f}B"


def percent(part: Decimal, whole: Decimal) -> str:
    """`part` as a share of `whole` (`12.3%`), or empty when `whole` is zero."""
    if not whole:
        return ""
    return f"{part / whole * 100:.1f}%"


def table(
    *columns: str,
    title: str | None = None,
    numeric: Iterable[str] = (),
    no_wrap: Iterable[str] = (),
) -> Table:
    """A table whose `numeric` columns (money, counts) are right-aligned and never wrapped,
    like the `no_wrap` ones."""
    right, whole = set(numeric), set(no_wrap)
    result = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        header_style="bold",
        pad_edge=False,
        show_edge=False,
    )
    for column in columns:
        if column in right:
            result.add_column(column, justify="right", no_wrap=True)
        else:
            # Labels come first and must never be squeezed to nothing by the numbers.
            result.add_column(column, min_width=min(len(column) + 4, 12), no_wrap=column in whole)
    return result


@dataclass(frozen=True, slots=True)
class Column:
    """A column of `fitted_table`. On a narrow terminal columns with a `drop` rank are left
    out, highest rank first; rank 0 always stays."""

    name: str
    numeric: bool = False
    drop: int = 0
    no_wrap: bool = False


Cell = str | Text


def fitted_table(
    out: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
    styles: Sequence[str | None] = (),
    total: Sequence[Cell] | None = None,
) -> Table:
    """A table of `rows` that fits `out`: droppable columns go until it does.

    `styles` gives each row a style; `total` is a bold last row under a rule.
    """
    every_row = [*rows, *([total] if total is not None else [])]
    kept = list(range(len(columns)))
    droppable = sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop)
    for index in droppable:
        if _width(columns, every_row, kept) <= out.width:
            break
        kept.remove(index)
    result = table(
        *(columns[i].name for i in kept),
        title=title,
        numeric=[columns[i].name for i in kept if columns[i].numeric],
        no_wrap=[columns[i].name for i in kept if columns[i].no_wrap],
    )
    for position, row in enumerate(rows):
        style = styles[position] if position < len(styles) else None
        result.add_row(*(_plain(row[i]) for i in kept), style=style)
    if total is not None:
        result.add_section()
        result.add_row(*(_plain(total[i]) for i in kept), style="bold")
    return result


def _plain(cell: Cell) -> Text:
    """A cell as text, never as markup (names may contain brackets)."""
    return cell if isinstance(cell, Text) else Text(cell)


def _width(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], kept: list[int]) -> int:
    def cell_width(cell: Cell) -> int:
        text = cell.plain if isinstance(cell, Text) else cell
        return max((len(line) for line in text.splitlines()), default=0)

    widths = [max([len(columns[i].name), *(cell_width(row[i]) for row in rows)]) for i in kept]
    # Cells are padded by one space on each side of a one-space divider.
    return sum(widths) + 3 * (len(kept) - 1)


def budget_bar(percent_used: Decimal) -> Text:
    """A bar of `percent_used` of a budget, green, then yellow from 80 %, red from 100 %."""
    filled = min(BAR_WIDTH, int(percent_used / 100 * BAR_WIDTH))
    if percent_used >= 100:
        style = "red"
    elif percent_used >= 80:
        style = "yellow"
    else:
        style = "green"
    bar = Text("█" * filled, style=style)
    bar.append("░" * (BAR_WIDTH - filled), style="dim")
    return bar


def progress(out: Console, *, unit: str) -> Progress:
    """A progress bar on `out`, drawn only on a terminal (pipes and tests stay clean)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )
