"""Date ranges as commands take them: `--days N` or `--start/--end` (UTC days, inclusive)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import typer

from llmlab_core.periods import day_instants, last_days

DAYS_HELP = "The last N days, today included (UTC)."
START_HELP = "First day, YYYY-MM-DD (UTC), inclusive."
END_HELP = "Last day, YYYY-MM-DD (UTC), inclusive."


@dataclass(frozen=True, slots=True)
class DayRange:
    """Inclusive UTC days; None means open on that side (the server picks its default)."""

    start: date | None = None
    end: date | None = None

    def instants(self) -> tuple[datetime | None, datetime | None]:
        """[first day 00:00, the day after the last 00:00) UTC, for event timestamp filters."""
        return day_instants(self.start, self.end)


def parse_day(value: str | None) -> date | None:
    """Typer callback: a YYYY-MM-DD string as a date (a usage error otherwise)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-01-31") from None


def day_range(
    days: int | None,
    start: str | None,
    end: str | None,
    *,
    default_days: int | None = None,
) -> DayRange:
    """The range the options describe; `default_days` applies when none is given."""
    first, last = parse_day(start), parse_day(end)
    if days is not None and (first or last):
        raise typer.BadParameter("use either --days or --start/--end, not both")
    if days is None and first is None and last is None and default_days is not None:
        days = default_days
    if days is not None:
        if days < 1:
            raise typer.BadParameter(f"--days must be at least 1, got {days}")
        return DayRange(*last_days(days))
    if first and last and first > last:
        raise typer.BadParameter(f"--start {first} is after --end {last}")
    return DayRange(first, last)
