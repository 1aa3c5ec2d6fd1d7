"""SDK overhead: what ``@track_cost`` adds to a call, and how fast the sender drains to a server.

    .venv/bin/python bench/sdk_overhead.py [--quick] [--base-url URL --api-key KEY]

Per call: a function returning a real ``openai`` ChatCompletion (usage with cached and reasoning
tokens), undecorated vs decorated, timed call by call with ``perf_counter_ns`` in interleaved
rounds; medians and p99 in microseconds. The decorated calls build and enqueue real events
while the background sender is busy posting earlier ones to a real LLMLab API (uvicorn, one
worker, SQLite, started here unless ``--base-url`` is given), so the figure includes GIL
contention with the sender: the realistic case, not the idle one.

Drain: N events are enqueued as fast as the decorated function can be called; the clock stops
when ``flush()`` returns, i.e. when the server has acknowledged every batch (up to 1,000 events
per request over one keep-alive connection). The server's own call count is checked against N.
The same drain against ``bench/bare_app.py`` (the track endpoint's validation alone, no auth,
pricing or storage) separates what the SDK costs from what the server costs.

Memory with a full queue: in a fresh process, the SDK with its default settings (queue of
10,000 events) but the spool off sends to a port nobody listens on, so nothing drains; the
decorated function is called until the SDK drops events. Reported: the process's RSS with the
SDK warm and its queue empty (the baseline), then with the queue full, and the difference per
held event.

Burst (issue 20): in a fresh process with the SDK's default settings (queue of 10,000, the
spool on, in a temporary LLMLAB_HOME), 25,500 decorated calls as fast as they go against the
real API, then ``flush()``. Reported: the calls' wall time and per-call median / p99, how many
events the server stored (its call count), dropped and spooled counts, and the process's peak
RSS (``VmHWM``) against its RSS before the burst.

Every call returns a response with an id of its own, as a provider's answers have: the SDK
derives each event's ``event_id`` from it, and the server would store one event for a repeated
id.

Writes bench/results/sdk.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import app_env, serving, sign_up, write_results
from openai.types.chat import ChatCompletion

import llmlab_sdk
from llmlab_sdk.config import SDKConfig

TARGET_MEDIAN_US = 15.0
BURST_CALLS = 25_500

RESPONSE = ChatCompletion.model_validate(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "ok"},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "prompt_tokens_details": {"cached_tokens": 1024},
            "completion_tokens_details": {"reasoning_tokens": 128},
        },
    }
)


_RUN = uuid.uuid4().hex[:8]  # ids unique across runs against the same account, too
_response_ids = (f"chatcmpl-bench-{_RUN}-{n}" for n in itertools.count())


def call_model() -> ChatCompletion:
    # A fresh id per answer (through __dict__: pydantic's __setattr__ would cost ~1 µs).
    RESPONSE.__dict__["id"] = next(_response_ids)
    return RESPONSE


tracked_call_model = llmlab_sdk.track_cost(project="bench", tags=["overhead"])(call_model)


def time_calls(function: Callable[[], Any], calls: int) -> list[int]:
    clock = time.perf_counter_ns
    timings = [0] * calls
    for index in range(calls):
        started = clock()
        function()
        timings[index] = clock() - started
    return timings


def percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure_overhead(rounds: int, calls_per_round: int) -> dict[str, Any]:
    time_calls(call_model, 2_000)
    time_calls(tracked_call_model, 2_000)
    plain: list[int] = []
    tracked: list[int] = []
    for _ in range(rounds):  # interleaved, so machine noise hits both alike
        plain += time_calls(call_model, calls_per_round)
        tracked += time_calls(tracked_call_model, calls_per_round)
    plain_us = statistics.median(plain) / 1000
    tracked_us = statistics.median(tracked) / 1000
    return {
        "calls_each": len(plain),
        "undecorated_median_us": round(plain_us, 3),
        "decorated_median_us": round(tracked_us, 3),
        "overhead_median_us": round(tracked_us - plain_us, 3),
        "ratio": round(tracked_us / plain_us, 1),
        "undecorated_p99_us": round(percentile(plain, 0.99) / 1000, 3),
        "decorated_p99_us": round(percentile(tracked, 0.99) / 1000, 3),
        "target_median_us": TARGET_MEDIAN_US,
    }


def measure_drain(events: int, client: llmlab_sdk.LLMLabClient | None) -> dict[str, Any]:
    calls_before = client.cost_summary()["calls"] if client else 0
    stats_before = llmlab_sdk.stats()
    started = time.perf_counter()
    for _ in range(events):
        tracked_call_model()
    enqueued = time.perf_counter()
    flushed = llmlab_sdk.flush(timeout=600)
    finished = time.perf_counter()
    stats_after = llmlab_sdk.stats()
    if client is not None:
        received = client.cost_summary()["calls"] - calls_before
    else:
        received = stats_after["sent"] - stats_before["sent"]
    return {
        "events": events,
        "flushed": flushed,
        "received_by_server": received,
        "dropped": stats_after["dropped"] - stats_before["dropped"],
        "requests": stats_after["requests"] - stats_before["requests"],
        "enqueue_seconds": round(enqueued - started, 3),
        "total_seconds": round(finished - started, 3),
        "events_per_s": round(events / (finished - started)),
    }


def rss_mib() -> float:
    """Resident set size of this process now (Linux)."""
    return os.sysconf("SC_PAGE_SIZE") * int(Path("/proc/self/statm").read_text().split()[1]) / 2**20


def full_queue_memory() -> dict[str, Any]:
    """Run in a fresh process (`--full-queue-child`): RSS with the queue empty, then full."""
    with socket.socket() as probe:  # a free port, closed again: connections are refused
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    llmlab_sdk.configure(api_key="llmlab_bench", base_url=dead_url, spool=False)
    for _ in range(200):  # warm: imports, the sender thread, the first (failed) request
        tracked_call_model()
    time.sleep(0.5)
    empty = rss_mib()
    calls = 0
    while llmlab_sdk.stats()["dropped"] == 0:
        tracked_call_model()
        calls += 1
    stats = llmlab_sdk.stats()
    full = rss_mib()
    # In the queue, plus the batch the sender holds while it retries.
    held = 200 + calls - stats["dropped"] - stats["sent"] - stats["failed"]
    return {
        "max_queue_size": SDKConfig().max_queue_size,
        "events_held": held,
        "rss_empty_mib": round(empty, 1),
        "rss_full_mib": round(full, 1),
        "bytes_per_event": round((full - empty) * 2**20 / held),
        "sender_stats": stats,
    }


def memory_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def burst(base_url: str, api_key: str) -> dict[str, Any]:
    """Run in a fresh process (`--burst-child`): 25,500 calls at once, then flush."""
    llmlab_sdk.configure(api_key=api_key, base_url=base_url)
    with llmlab_sdk.LLMLabClient(base_url, api_key=api_key) as client:
        for _ in range(200):  # warm: imports, the sender thread, the connection
            tracked_call_model()
        assert llmlab_sdk.flush(timeout=60)
        calls_before = client.cost_summary()["calls"]
        rss_before = memory_mib("VmRSS")
        stats_before = llmlab_sdk.stats()
        timings = [0] * BURST_CALLS
        clock = time.perf_counter_ns
        started = time.perf_counter()
        for index in range(BURST_CALLS):
            call_started = clock()
            tracked_call_model()
            timings[index] = clock() - call_started
        burst_seconds = time.perf_counter() - started
        flushed = llmlab_sdk.flush(timeout=300)
        drained_seconds = time.perf_counter() - started
        stored = client.cost_summary()["calls"] - calls_before
    stats = llmlab_sdk.stats()
    return {
        "calls": BURST_CALLS,
        "burst_seconds": round(burst_seconds, 3),
        "per_call_median_us": round(statistics.median(timings) / 1000, 2),
        "per_call_p99_us": round(percentile(timings, 0.99) / 1000, 2),
        "per_call_max_ms": round(max(timings) / 1e6, 2),
        "flushed": flushed,
        "drained_seconds": round(drained_seconds, 2),
        "stored_by_server": stored,
        "dropped": stats["dropped"] - stats_before["dropped"],
        "spooled": stats["spooled"] - stats_before["spooled"],
        "resent_from_spool": stats["resent_from_spool"] - stats_before["resent_from_spool"],
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(memory_mib("VmHWM"), 1),
    }


def run_child(*arguments: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, __file__, *arguments],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        env=None if env is None else os.environ | env,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def measure_full_queue_memory() -> dict[str, Any]:
    return run_child("--full-queue-child")


def measure_burst(base_url: str, api_key: str) -> dict[str, Any]:
    # The SDK's default spool folder, but in a temporary LLMLAB_HOME, not the user's own.
    with tempfile.TemporaryDirectory() as home:
        result = run_child("--burst-child", base_url, api_key, env={"LLMLAB_HOME": home})
        result["spool_files_left"] = len(list(Path(home).glob("spool/*/*.json")))
    return result


@contextmanager
def llmlab_server(base_url: str | None, api_key: str | None) -> Iterator[tuple[str, str]]:
    if base_url and api_key:
        yield base_url, api_key
        return
    with tempfile.TemporaryDirectory() as data_dir:
        env = app_env(Path(data_dir), f"sqlite:///{data_dir}/bench.db")
        with serving("llmlab_app.api:app", env) as server:
            yield server.base_url, sign_up(server.base_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and events")
    parser.add_argument("--base-url", help="use a running LLMLab API instead of starting one")
    parser.add_argument("--api-key", help="API key for --base-url")
    parser.add_argument("--full-queue-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--burst-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.full_queue_child:
        print(json.dumps(full_queue_memory()))
        llmlab_sdk.shutdown(timeout=0)
        return 0
    if args.burst_child:
        print(json.dumps(burst(*args.burst_child)))
        llmlab_sdk.shutdown(timeout=30)
        return 0
    rounds, calls_per_round, drain_events = (
        (5, 10_000, 20_000) if args.quick else (10, 50_000, 100_000)
    )

    with llmlab_server(args.base_url, args.api_key) as (base_url, api_key):
        llmlab_sdk.configure(api_key=api_key, base_url=base_url, max_queue_size=2_000_000)
        overhead = measure_overhead(rounds, calls_per_round)
        assert llmlab_sdk.flush(timeout=600), "the overhead run's events were not all sent"
        with llmlab_sdk.LLMLabClient(base_url, api_key=api_key) as client:
            drain = measure_drain(drain_events, client)
        llmlab_sdk.shutdown(timeout=30)
        burst_result = measure_burst(base_url, api_key)
    bare_drain = None
    if not args.base_url:
        with serving("bare_app:app") as bare:
            llmlab_sdk.configure(
                api_key="llmlab_bench", base_url=bare.base_url, max_queue_size=2_000_000
            )
            bare_drain = measure_drain(drain_events, None)
            llmlab_sdk.shutdown(timeout=30)

    memory = measure_full_queue_memory()
    result = {
        "quick": args.quick,
        "per_call": overhead,
        "drain": drain,
        "drain_to_bare_endpoint": bare_drain,
        "full_queue_memory": memory,
        "burst": burst_result,
    }
    path = write_results("sdk", result)
    print(
        f"per call (median): undecorated {overhead['undecorated_median_us']:.2f} µs, "
        f"decorated {overhead['decorated_median_us']:.2f} µs "
        f"(+{overhead['overhead_median_us']:.2f} µs, ratio {overhead['ratio']}x; "
        f"target <= {TARGET_MEDIAN_US:.0f} µs: "
        f"{'met' if overhead['decorated_median_us'] <= TARGET_MEDIAN_US else 'missed'}); "
        f"p99 {overhead['undecorated_p99_us']:.2f} / {overhead['decorated_p99_us']:.2f} µs"
    )
    print(
        f"drain: {drain['events']:,} events in {drain['total_seconds']:.2f} s = "
        f"{drain['events_per_s']:,} events/s over {drain['requests']} requests "
        f"(server received {drain['received_by_server']:,}, dropped {drain['dropped']})"
    )
    if bare_drain is not None:
        print(
            f"drain to the bare endpoint (no auth, pricing or storage): "
            f"{bare_drain['events_per_s']:,} events/s over {bare_drain['requests']} requests"
        )
    print(
        f"memory with a full queue ({memory['events_held']:,} events held, nothing drains): "
        f"RSS {memory['rss_full_mib']:.1f} MiB vs {memory['rss_empty_mib']:.1f} MiB with the "
        f"queue empty (+{memory['rss_full_mib'] - memory['rss_empty_mib']:.1f} MiB, "
        f"~{memory['bytes_per_event']:,} bytes per event)"
    )
    print(
        f"burst: {burst_result['calls']:,} calls in {burst_result['burst_seconds']:.2f} s "
        f"(per call median {burst_result['per_call_median_us']:.2f} µs, "
        f"p99 {burst_result['per_call_p99_us']:.2f} µs, "
        f"max {burst_result['per_call_max_ms']:.2f} ms); "
        f"server stored {burst_result['stored_by_server']:,}, dropped {burst_result['dropped']}, "
        f"spooled {burst_result['spooled']:,} (all resent: "
        f"{burst_result['resent_from_spool'] == burst_result['spooled']}), "
        f"drained in {burst_result['drained_seconds']:.2f} s; peak RSS "
        f"{burst_result['peak_rss_mib']:.1f} MiB vs {burst_result['rss_before_mib']:.1f} MiB "
        f"before the burst"
    )
    print(f"results: {path}")
    # The exit status is about losses only: the timing target is a figure to read (it moves
    # with the machine's load), printed above as met or missed.
    ok = (
        drain["received_by_server"] == drain["events"]
        and burst_result["stored_by_server"] == burst_result["calls"]
        and burst_result["dropped"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
