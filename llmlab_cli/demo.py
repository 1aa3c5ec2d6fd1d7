"""Realistic, deterministic demo usage: what a small company's LLM traffic looks like.

Each day is generated from `(seed, date)` alone, so event ids are stable: running the demo again
the same day sends only duplicates (which the API ignores), and a day later adds the new day.
The shape is chosen so that every dashboard view has something to show: several projects and
providers, cache hits, reasoning, a few long-context calls, a weekday/weekend rhythm, a growth
trend, one spike, some errors, a self-hosted model without a price, and expensive models used
for short answers (which the recommendations pick up).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

Rhythm = Literal["office", "always_on", "nightly"]

BASE_CALLS_PER_DAY = 450
DAILY_GROWTH = 0.006  # ~70 % more traffic today than 90 days ago
SPIKE_FACTOR = 6.0

# Share of a weekday's traffic that happens on a Saturday or Sunday.
WEEKEND_FACTOR: dict[Rhythm, float] = {"office": 0.35, "always_on": 0.75, "nightly": 1.0}
# Relative traffic per UTC hour.
HOURLY_PROFILE: dict[Rhythm, tuple[float, ...]] = {
    "office": (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 12, 12, 11, 9, 7, 5, 4, 3, 2, 1),
    "always_on": (4, 3, 3, 3, 3, 4, 5, 6, 8, 9, 10, 10, 10, 10, 10, 10, 10, 9, 8, 7, 6, 6, 5, 5),
    "nightly": (12, 14, 14, 10, 6, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 6),
}


@dataclass(frozen=True, slots=True)
class Workload:
    """One kind of call a project makes to one model, and the token shape of those calls.

    Token counts are log-normal around their medians. `cache_hit_rate` is the chance a call
    reads `cache_share` of its input from the provider's prompt cache; `cache_write_rate` the
    chance it writes that much (Anthropic bills cache writes).
    """

    project: str
    provider: str
    model: str
    calls_share: float
    rhythm: Rhythm
    input_median: int
    output_median: int
    input_sigma: float = 0.5
    output_sigma: float = 0.6
    cache_hit_rate: float = 0.0
    cache_write_rate: float = 0.0
    cache_share: float = 0.0
    reasoning_share: float = 0.0
    error_rate: float = 0.01
    ms_per_output_token: float = 12.0
    end_users: int = 0
    tags: tuple[str, ...] = ()


WORKLOADS: tuple[Workload, ...] = (
    # A support chatbot on gpt-4o: a large system prompt resent on every turn, rarely cached,
    # and short answers. The top "switch to a cheaper model" / "cache your prompt" candidate.
    Workload(
        project="support-bot",
        provider="openai",
        model="gpt-4o",
        calls_share=0.26,
        rhythm="always_on",
        input_median=3_800,
        output_median=170,
        cache_hit_rate=0.08,
        cache_share=0.5,
        end_users=400,
        tags=("chat", "prod"),
    ),
    Workload(
        project="support-bot",
        provider="openai",
        model="gpt-4o-mini",
        calls_share=0.14,
        rhythm="always_on",
        input_median=1_400,
        output_median=260,
        cache_hit_rate=0.3,
        cache_share=0.6,
        end_users=400,
        tags=("chat", "prod"),
        ms_per_output_token=6,
    ),
    # Retrieval-augmented search: Claude Sonnet with a well-used prompt cache.
    Workload(
        project="search-rag",
        provider="anthropic",
        model="claude-sonnet-4-20250514",
        calls_share=0.12,
        rhythm="office",
        input_median=9_000,
        output_median=420,
        cache_hit_rate=0.8,
        cache_write_rate=0.1,
        cache_share=0.75,
        tags=("rag", "prod"),
        ms_per_output_token=18,
    ),
    Workload(
        project="search-rag",
        provider="google",
        model="gemini-2.5-flash",
        calls_share=0.10,
        rhythm="office",
        input_median=6_000,
        output_median=300,
        cache_hit_rate=0.4,
        cache_share=0.5,
        tags=("rag", "prod"),
        ms_per_output_token=5,
    ),
    # Whole-document questions: a few very long prompts, some above the 200k-token tier.
    Workload(
        project="search-rag",
        provider="google",
        model="gemini-2.5-pro",
        calls_share=0.006,
        rhythm="office",
        input_median=150_000,
        output_median=900,
        input_sigma=0.35,
        tags=("long-context",),
        ms_per_output_token=25,
    ),
    # Code review on Claude Opus with big diffs and terse verdicts.
    Workload(
        project="code-review",
        provider="anthropic",
        model="claude-opus-4-20250514",
        calls_share=0.06,
        rhythm="office",
        input_median=14_000,
        output_median=240,
        cache_hit_rate=0.05,
        cache_share=0.4,
        tags=("ci",),
        ms_per_output_token=30,
    ),
    Workload(
        project="code-review",
        provider="openai",
        model="o4-mini",
        calls_share=0.05,
        rhythm="office",
        input_median=5_000,
        output_median=2_600,
        reasoning_share=0.7,
        tags=("ci",),
        ms_per_output_token=9,
    ),
    # Nightly classification of tickets on gemini-2.5-pro: one-word answers from a pro model.
    Workload(
        project="data-pipeline",
        provider="google",
        model="gemini-2.5-pro",
        calls_share=0.13,
        rhythm="nightly",
        input_median=7_000,
        output_median=40,
        output_sigma=0.3,
        error_rate=0.02,
        tags=("batch", "nightly"),
        ms_per_output_token=20,
    ),
    Workload(
        project="data-pipeline",
        provider="openai",
        model="gpt-4o",
        calls_share=0.05,
        rhythm="nightly",
        input_median=6_000,
        output_median=120,
        tags=("batch", "nightly"),
    ),
    Workload(
        project="marketing-copy",
        provider="openai",
        model="gpt-4.1-mini",
        calls_share=0.07,
        rhythm="office",
        input_median=2_000,
        output_median=900,
        tags=("content",),
        ms_per_output_token=8,
    ),
    # A self-hosted model: tracked, but no public price, so it shows up as unpriced.
    Workload(
        project="internal-tools",
        provider="self-hosted",
        model="llama-3.1-70b-local",
        calls_share=0.014,
        rhythm="office",
        input_median=2_500,
        output_median=400,
        tags=("experimental",),
        ms_per_output_token=15,
    ),
)
SPIKE_PROJECT = "data-pipeline"


def demo_events(
    *, seed: int, days: int, now: datetime, scale: float = 1.0
) -> Iterator[dict[str, Any]]:
    """Events of the `days` x 24 hours before `now`, up to a minute before it, oldest day
    first. A window, not calendar days: `days=1` just after midnight is the last 24 hours,
    not the few minutes of the new day."""
    start = now - timedelta(days=days)
    cutoff = now - timedelta(minutes=1)
    today = now.astimezone(UTC).date()
    spike_age = _spike_age(seed, days)
    for age in range(days, -1, -1):
        day = today - timedelta(days=age)
        yield from _day_events(seed, day, age, (start, cutoff), scale, spike=age == spike_age)


def _spike_age(seed: int, days: int) -> int | None:
    """Which day (counted back from today) a runaway batch job multiplied the traffic."""
    if days < 14:
        return None
    return random.Random(f"{seed}:spike").randint(days // 5, days // 3)


def _day_events(
    seed: int,
    day: date,
    age: int,
    window: tuple[datetime, datetime],
    scale: float,
    *,
    spike: bool,
) -> Iterator[dict[str, Any]]:
    """The day's calls that fall in `window` (start exclusive, end inclusive)."""
    rng = random.Random(f"{seed}:{day.isoformat()}")
    growth = math.exp(-DAILY_GROWTH * age)
    weekend = day.weekday() >= 5
    calls: list[dict[str, Any]] = []
    for workload in WORKLOADS:
        expected = BASE_CALLS_PER_DAY * scale * workload.calls_share * growth
        if weekend:
            expected *= WEEKEND_FACTOR[workload.rhythm]
        if spike and workload.project == SPIKE_PROJECT:
            expected *= SPIKE_FACTOR
        count = _poisson_like(rng, expected)
        calls.extend(_call(rng, workload, day, spike) for _ in range(count))
    calls.sort(key=lambda call: call["timestamp"])
    start, end = window
    for index, call in enumerate(calls):
        # Ids follow the full day's order, so a later run repeats the events it shares exactly.
        call["event_id"] = f"demo-{seed}-{day:%Y%m%d}-{index:05d}"
        if start < call["timestamp"] <= end:
            call["timestamp"] = call["timestamp"].isoformat()
            yield call


def _poisson_like(rng: random.Random, expected: float) -> int:
    """A count around `expected` with day-to-day noise (±15 %) and small-number randomness."""
    noisy = expected * rng.uniform(0.85, 1.15)
    whole = int(noisy)
    return whole + (1 if rng.random() < noisy - whole else 0)


def _call(rng: random.Random, workload: Workload, day: date, spike: bool) -> dict[str, Any]:
    hour = rng.choices(range(24), weights=HOURLY_PROFILE[workload.rhythm])[0]
    moment = datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(seconds=rng.uniform(0, 3600))
    input_tokens = _lognormal(rng, workload.input_median, workload.input_sigma)
    output_tokens = _lognormal(rng, workload.output_median, workload.output_sigma)
    cache_read = cache_write = 0
    cached = int(input_tokens * workload.cache_share)
    roll = rng.random()
    if roll < workload.cache_write_rate:
        cache_write = cached
    elif roll < workload.cache_write_rate + workload.cache_hit_rate and input_tokens >= 1024:
        # OpenAI and Anthropic cache prompt prefixes in 128-token steps.
        cache_read = cached - cached % 128
    reasoning = int(output_tokens * workload.reasoning_share)
    error_rate = workload.error_rate * (8 if spike and workload.project == SPIKE_PROJECT else 1)
    failed = rng.random() < error_rate
    if failed:
        output_tokens = reasoning = 0
    # Time to first token grows with the prompt; the rest with the answer.
    latency = (
        250
        + input_tokens / 50
        + output_tokens * workload.ms_per_output_token * rng.uniform(0.7, 1.4)
    )
    event: dict[str, Any] = {
        "provider": workload.provider,
        "model": workload.model,
        "project": workload.project,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "reasoning_tokens": reasoning,
        "timestamp": moment,
        "latency_ms": int(latency),
        "status": "error" if failed else "success",
        "tags": list(workload.tags),
    }
    if workload.end_users:
        event["end_user"] = f"customer-{rng.randint(1, workload.end_users):04d}"
    return event


def _lognormal(rng: random.Random, median: int, sigma: float) -> int:
    return max(1, int(median * math.exp(rng.gauss(0, sigma))))


def suggested_budget(month_to_date_usd: float, day_of_month: int, days_in_month: int) -> int:
    """A monthly budget that this month's pace runs out of a few days before the month ends,
    rounded up to a friendly number, so the forecast has a story to tell."""
    projected = month_to_date_usd / max(1, day_of_month) * days_in_month
    target = max(projected * 0.92, month_to_date_usd * 1.05)
    step = 10 if target < 1_000 else 50 if target < 5_000 else 100
    return max(step, math.ceil(target / step) * step)
