"""How numbers, money and dates read on the dashboard (pure functions, unit tested)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

MISSING = "\u2014"  # em dash
RANGE_DASH = "\u2013"  # en dash, between the ends of a range
# Per-event costs: enough places for this many significant digits of a column's smallest cost.
COLUMN_SIGNIFICANT_DIGITS = 3
COLUMN_MAX_PLACES = 10  # what the database stores (Money: NUMERIC(28, 10))


def format_usd(value: Decimal | None) -> str:
    """Dollars for cards and charts: cents, or down to a millionth of a dollar under one cent."""
    if value is None:
        return MISSING
    if value != 0 and abs(value) < Decimal("0.01"):
        text = f"{value:.6f}".rstrip("0")
        return f"${text}" if text.strip("-0.") else "<$0.000001"
    return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def format_usd_exact(value: Decimal | None) -> str:
    """Every stored digit, no float rounding, at least cents: prices typed in Settings, and
    a per-event cost when hovered (its column rounds it to `usd_column_places`)."""
    if value is None:
        return MISSING
    text = f"{value.normalize():,f}"
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


def usd_column_places(values: Iterable[Decimal | None]) -> int:
    """Decimal places for a column of per-event costs: the smallest non-zero cost keeps three
    significant digits, so every row of the column lines up on the same number of places."""
    smallest = min((abs(value) for value in values if value), default=None)
    if smallest is None:
        return 2
    places = COLUMN_SIGNIFICANT_DIGITS - 1 - smallest.adjusted()
    return min(max(places, 2), COLUMN_MAX_PLACES)


def format_usd_places(value: Decimal | None, places: int) -> str:
    """Dollars with exactly `places` decimals (half up): one cell of a cost column."""
    if value is None:
        return MISSING
    step = Decimal(1).scaleb(-places)
    return f"${value.quantize(step, rounding=ROUND_HALF_UP):,f}"


def format_usd_column(values: list[Decimal | None]) -> list[str]:
    """Per-event costs as one column reads them: the same places on every row
    (`usd_column_places`), `$0.006000` next to `$0.000439`, never `$0.006` next to `$0.0004392`."""
    places = usd_column_places(values)
    return [format_usd_places(value, places) for value in values]


def format_count(value: int) -> str:
    return f"{value:,}"


def format_day(value: date) -> str:
    """`Nov 26, 2026` — unambiguous in every locale."""
    return f"{value:%b} {value.day}, {value.year}"


def format_timestamp(value: datetime) -> str:
    """UTC, to the second: `2026-11-26 18:04:36`."""
    return f"{value:%Y-%m-%d %H:%M:%S}"


def format_range(low: str, high: str) -> str:
    return f"{low} {RANGE_DASH} {high}"
