"""Pricing throughput: LLMLab's memoised path vs genai-prices' calc per event.

    .venv/bin/python bench/pricing.py [--quick]

Prints events/s for both and the ratio, and writes bench/results/pricing.json. Each figure is the
median of several rounds over the same pre-built events (a mix of models, cache use and tiers),
measured in the same run so they compare on the same machine load.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from genai_prices import Usage as DatasetUsage

from llmlab_core import Usage, price_usage
from llmlab_core.pricing.dataset import dataset_version, to_dataset_usage
from llmlab_core.pricing.dataset import snapshot as corrected_snapshot

MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "o3",
    "claude-sonnet-4-20250514",
    "claude-opus-4",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
]
RESULTS = Path(__file__).parent / "results" / "pricing.json"


def make_events(count: int, seed: int = 7) -> list[tuple[str, Usage, datetime]]:
    rng = random.Random(seed)
    start = datetime(2025, 5, 1, tzinfo=UTC)
    events = []
    for _ in range(count):
        input_tokens = rng.choice([rng.randint(0, 4_000), rng.randint(150_000, 300_000)])
        cache_read = rng.randint(0, input_tokens // 2)
        cache_write = rng.randint(0, (input_tokens - cache_read) // 4)
        output = rng.randint(0, 2_000)
        usage = Usage(
            input_tokens=input_tokens,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
            output_tokens=output,
        )
        at = start + timedelta(minutes=rng.randint(0, 120 * 24 * 60))
        events.append((rng.choice(MODELS), usage, at))
    return events


def events_per_second(price_one, events, rounds: int) -> float:
    rates = []
    for _ in range(rounds):
        began = time.perf_counter()
        for model, usage, at in events:
            price_one(model, usage, at)
        rates.append(len(events) / (time.perf_counter() - began))
    return statistics.median(rates)


def memoised(model: str, usage: Usage, at: datetime) -> object:
    return price_usage(model, usage, at=at)


def unmemoised(model: str, usage: Usage, at: datetime) -> object:
    # genai-prices' own engine on the same prices LLMLab bills by (the dataset with LLMLab's
    # corrections applied); `calc_price` itself would run on the uncorrected bundled dataset.
    return corrected_snapshot().calc(DatasetUsage(**to_dataset_usage(usage)), model, None, None, at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer events and rounds (~2 s)")
    args = parser.parse_args()
    count, rounds = (2_000, 3) if args.quick else (20_000, 5)

    events = make_events(count)
    for model, usage, at in events[:50]:  # warm both paths' caches
        memoised(model, usage, at)
        unmemoised(model, usage, at)
    for model, usage, at in events[:200]:
        assert memoised(model, usage, at).cost_usd == unmemoised(model, usage, at).total_price

    fast = events_per_second(memoised, events, rounds)
    slow = events_per_second(unmemoised, events[: max(count // 10, 500)], rounds)
    result = {
        "events": count,
        "rounds": rounds,
        "memoised_events_per_s": round(fast),
        "calc_price_events_per_s": round(slow),
        "ratio": round(fast / slow, 1),
        "genai_prices": dataset_version(),
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"memoised price_usage : {fast:>12,.0f} events/s")
    print(f"genai-prices calc    : {slow:>12,.0f} events/s")
    print(f"ratio                : {fast / slow:>12.1f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
