"""Turning form text into typed filters, with a message per field when it does not parse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation


@dataclass
class Parsed:
    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_day(text: str) -> date | None:
    """`YYYY-MM-DD` (what `<input type=date>` sends) or None when empty; ValueError otherwise."""
    text = text.strip()
    return date.fromisoformat(text) if text else None


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def date_range(start_text: str, end_text: str) -> tuple[date | None, date | None, dict[str, str]]:
    """Inclusive days from two date inputs; errors keyed by `start` / `end`."""
    errors: dict[str, str] = {}
    start = end = None
    try:
        start = parse_day(start_text)
    except ValueError:
        errors["start"] = "Use a date like 2026-11-01."
    try:
        end = parse_day(end_text)
    except ValueError:
        errors["end"] = "Use a date like 2026-11-30."
    if start and end and end < start:
        errors["end"] = "The end is before the start."
    return start, end, errors


def parse_usd(text: str, *, required: bool, allow_zero: bool = False) -> Decimal | None:
    """A dollar amount typed by a person (`1,200.50`, `$30`); ValueError with the message."""
    cleaned = text.strip().replace(",", "").removeprefix("$").strip()
    if not cleaned:
        if required:
            raise ValueError("Enter an amount in dollars.")
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a number, like 250 or 12.50.") from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(
            "Enter an amount greater than 0." if not allow_zero else "Enter 0 or more."
        )
    return amount


def parse_thresholds(text: str) -> list[int]:
    """`50, 80, 100` -> [50, 80, 100]; ValueError with the message."""
    parts = [part.strip().removesuffix("%") for part in text.replace(";", ",").split(",")]
    parts = [part for part in parts if part]
    if not parts:
        raise ValueError("Give at least one percentage, like 50, 80, 100.")
    try:
        values = sorted({int(part) for part in parts})
    except ValueError:
        raise ValueError("Use whole percentages separated by commas.") from None
    if any(not 1 <= value <= 1000 for value in values):
        raise ValueError("Each percentage must be between 1 and 1000.")
    return values
