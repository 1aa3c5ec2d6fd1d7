"""Where spend will land at the end of a budget period, and when a limit will be hit.

Method
------
1. **Spent** is the sum of `daily_costs` for days in the period up to and including `today`.
2. **History** is the complete days before today: the last `history_days` of them, but never
   before the first day that has an entry (days before that are "no account yet", not $0; days
   after it without an entry are $0). Today is partial, so it counts in `spent` but not in the
   daily rate (unless it is the only day there is), and the projection covers the days after
   today.
3. **Daily rate.** History days are winsorized at their 90th percentile, so one spike is not
   projected forward (it stays in `spent`, and widens the range below). With at least 7 days of
   history the rate is day-of-week aware: each weekday's mean is shrunk toward the overall mean
   as `(n_w * mean_w + 2 * mean) / (n_w + 2)`, so one odd Monday does not make every Monday odd.
   With fewer than 7 days there is one flat rate, the plain mean.
4. **Projected** = spent + the expected cost of each remaining day of the period.
5. **Range.** `sd` is the standard deviation of the raw (not winsorized) history around the
   expected values. Over m remaining days with n days of history the range is
   `projected ± z * sd * sqrt(m + m² / n)`: daily noise plus the uncertainty of the rate itself
   (a prediction interval for a sum of m days), z = 1.645 (about 90%), clipped below at `spent`
   (money spent stays spent).
   With fewer than 7 days `enough_data` is False, sd is at least the daily rate and z = 3: a wide
   range on purpose.
6. **Runs out on** is the first day whose cumulative spend reaches `limit_usd`: a past day if the
   limit is already reached, else a projected day. It is None when the limit is not reached
   before the period ends (the budget resets then) or when there is no limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from llmlab_core.periods import last_day

MIN_HISTORY_DAYS = 7
_Z = Decimal("1.645")
_Z_WIDE = Decimal(3)
_SHRINK = Decimal(2)
_CENT_FRACTION = Decimal("0.000001")
_ZERO = Decimal(0)


class Forecast(BaseModel):
    """Spend forecast of one budget period (USD)."""

    model_config = ConfigDict(frozen=True)

    spent: Decimal
    projected: Decimal
    low: Decimal
    high: Decimal
    runs_out_on: date | None
    enough_data: bool
    method: str
    daily_rate: Decimal
    history_days: int
    remaining_days: int


def forecast_spend(
    daily_costs: Mapping[date, Decimal],
    *,
    period_start: date,
    period_end: date,
    today: date,
    limit_usd: Decimal | None = None,
    history_days: int = 28,
) -> Forecast:
    """Forecast spend at `period_end` (exclusive) from daily costs up to `today`.

    Pass daily costs from `period_start - history_days` through `today`; see the module docstring
    for the method.
    """
    if period_end <= period_start:
        raise ValueError(f"period_end {period_end} must be after period_start {period_start}")
    if history_days < 1:
        raise ValueError(f"history_days must be at least 1, got {history_days}")

    spent_until = min(today, last_day(period_end))
    spent_days = _days(period_start, spent_until + timedelta(days=1))
    spent = sum((daily_costs.get(day, _ZERO) for day in spent_days), _ZERO)

    history = _history(daily_costs, today, history_days)
    enough_data = len(history) >= MIN_HISTORY_DAYS
    expected = _expected_by_weekday(history, day_of_week=enough_data)
    sd = _residual_sd(history, expected)
    flat_rate = _mean(list(expected.values())) if expected else _ZERO
    z = _Z
    if not enough_data:
        sd = max(sd, flat_rate)
        z = _Z_WIDE

    remaining = _days(max(today + timedelta(days=1), period_start), period_end)
    expected_remaining = [expected.get(day.weekday(), flat_rate) for day in remaining]
    projected = spent + sum(expected_remaining, _ZERO)
    spread = _spread(z, sd, len(remaining), len(history))

    return Forecast(
        spent=spent,
        projected=_round(projected),
        low=_round(max(spent, projected - spread)),
        high=_round(projected + spread),
        runs_out_on=_runs_out_on(limit_usd, daily_costs, spent_days, remaining, expected_remaining),
        enough_data=enough_data,
        method=_describe(history, enough_data, history_days),
        daily_rate=_round(flat_rate),
        history_days=len(history),
        remaining_days=len(remaining),
    )


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days)]


def _history(
    daily_costs: Mapping[date, Decimal], today: date, history_days: int
) -> list[tuple[date, Decimal]]:
    """Complete days before today, from the first recorded day at the earliest."""
    recorded = [day for day in daily_costs if day < today]
    if not recorded:
        # A brand-new account: today's partial spend is the only evidence of a rate.
        return [(today, daily_costs[today])] if today in daily_costs else []
    first = max(min(recorded), today - timedelta(days=history_days))
    return [(day, daily_costs.get(day, _ZERO)) for day in _days(first, today)]


def _expected_by_weekday(
    history: list[tuple[date, Decimal]], *, day_of_week: bool
) -> dict[int, Decimal]:
    """Expected cost per weekday (0 = Monday); one shared value without day-of-week data."""
    if not history:
        return {}
    capped = _winsorize([cost for _, cost in history])
    overall = _mean(capped)
    if not day_of_week:
        return dict.fromkeys(range(7), overall)
    by_weekday: dict[int, list[Decimal]] = {weekday: [] for weekday in range(7)}
    for (day, _), cost in zip(history, capped, strict=True):
        by_weekday[day.weekday()].append(cost)
    return {
        weekday: (sum(costs, _ZERO) + _SHRINK * overall) / (len(costs) + _SHRINK)
        for weekday, costs in by_weekday.items()
    }


def _winsorize(values: list[Decimal]) -> list[Decimal]:
    cap = _percentile(sorted(values), Decimal("0.9"))
    return [min(value, cap) for value in values]


def _percentile(ordered: list[Decimal], fraction: Decimal) -> Decimal:
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _residual_sd(history: list[tuple[date, Decimal]], expected: dict[int, Decimal]) -> Decimal:
    if len(history) < 2:
        return _ZERO
    squares = sum(((cost - expected[day.weekday()]) ** 2 for day, cost in history), _ZERO)
    return (squares / (len(history) - 1)).sqrt()


def _spread(z: Decimal, sd: Decimal, remaining_days: int, history_days: int) -> Decimal:
    if not remaining_days or not history_days:
        return _ZERO
    days = Decimal(remaining_days)
    # Day-to-day noise adds up over m days (m * sd^2), but an error in the rate itself repeats
    # every day (m^2 * sd^2 / n): that is what makes little history give a wide range.
    return z * sd * (days + days * days / history_days).sqrt()


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, _ZERO) / len(values) if values else _ZERO


def _runs_out_on(
    limit_usd: Decimal | None,
    daily_costs: Mapping[date, Decimal],
    spent_days: list[date],
    remaining: list[date],
    expected_remaining: list[Decimal],
) -> date | None:
    if limit_usd is None:
        return None
    total = _ZERO
    for day in spent_days:
        total += daily_costs.get(day, _ZERO)
        if total >= limit_usd:
            return day
    for day, cost in zip(remaining, expected_remaining, strict=True):
        total += cost
        if total >= limit_usd:
            return day
    return None


def _describe(history: list[tuple[date, Decimal]], enough_data: bool, history_days: int) -> str:
    if not history:
        return "no history: nothing to project beyond what is spent"
    if not enough_data:
        return (
            f"flat mean of {len(history)} day(s) of history (fewer than {MIN_HISTORY_DAYS}), "
            "wide range"
        )
    return (
        f"day-of-week mean of the last {len(history)} of up to {history_days} days, "
        "90th-percentile winsorized, 90% range"
    )


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT_FRACTION)
