"""How numbers, money and dates read on the dashboard (pure functions, unit tested)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

MISSING = "\u2014"  # em dash
RANGE_DASH = "\u2013"  # en dash, between the ends of a range


def format_usd(value: Decimal | None) -> str:
    """Dollars for cards and charts: cents, or down to a millionth of a dollar under one cent."""
    if value is None:
        return MISSING
    if value != 0 and abs(value) < Decimal("0.01"):
        text = f"{value:.6f}".rstrip("0")
        return f"${text}" if text.strip("-0.") else "<$0.000001"
    return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def format_usd_exact(value: Decimal | None) -> str:
    """Every stored digit, no float rounding, at least cents: for the events table."""
    if value is None:
        return MISSING
    text = f"{value.normalize():,f}"
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


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
