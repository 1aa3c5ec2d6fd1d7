"""P1 single-event ingest: POST /api/events/track, one event per request, vs a bare endpoint.

    .venv/bin/python bench/ingest.py [--quick] [--backends sqlite,postgresql]

Each server is `uvicorn <app>` with one worker on loopback. The load generator (bench/harness.py)
keeps N keep-alive connections busy for a fixed time (or a request cap), each request carrying
one new event (unique `event_id`, API key in `Authorization`). The baseline is
bench/bare_app.py: FastAPI validating the same body and answering, nothing else. The app path
does everything a real track does: API-key auth, rate-limit count, pricing, insert, rollup
upsert, commit, budget status. Rounds alternate baseline and app; figures are medians.

Also reports the peak RSS (VmHWM) of each server process after the load: the memory figure.
Writes bench/results/ingest.json. PostgreSQL uses its own database (see harness.py).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    DEFAULT_POSTGRES_URL,
    add_app_root_option,
    app_env,
    backends,
    http_request,
    median,
    reset_postgres,
    run_load,
    serving,
    sign_up,
    use_app_root,
    write_results,
)

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-20250514", "gemini-2.5-flash"]
TARGET_RATIO = 0.5


def track_request(api_key: str) -> Any:
    stamp = datetime.now(UTC).isoformat()
    headers = {"Authorization": f"Bearer {api_key}"}

    def make(i: int) -> bytes:
        event = {
            "event_id": f"bench-{i}",
            "provider": None,
            "model": MODELS[i % len(MODELS)],
            "input_tokens": 1_000 + i % 500,
            "cache_read_tokens": 200,
            "output_tokens": 150 + i % 100,
            "timestamp": stamp,
            "project": "chatbot",
            "latency_ms": 800,
            "tags": ["bench"],
        }
        return http_request("POST", "/api/events/track", json.dumps(event).encode(), headers)

    return make


def measure(server: Any, api_key: str, args: argparse.Namespace) -> dict[str, Any]:
    cpu_before = server.cpu_seconds()
    load = run_load(
        server,
        track_request(api_key),
        concurrency=args.concurrency,
        seconds=args.seconds,
        max_requests=args.max_requests,
        warmup_requests=args.warmup,
    )
    summary = load.summary()
    cpu_after = server.cpu_seconds()
    # Steadier than requests/s on a shared machine: what the server spends per request.
    if cpu_before is not None and cpu_after is not None and load.requests:
        summary["server_cpu_us_per_request"] = round(
            (cpu_after - cpu_before) * 1e6 / (load.requests + args.warmup), 1
        )
    return summary


def _median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(median(values), 1) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (~10 s)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    add_app_root_option(parser)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    use_app_root(args.app_root)
    args.seconds = args.seconds or (1.5 if args.quick else 8.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.max_requests = 2_000 if args.quick else 1_000_000
    args.warmup = 100 if args.quick else 500

    rounds: dict[str, list[dict[str, Any]]] = {}
    peak_rss: dict[str, float | None] = {}
    chosen = backends(args.backends, args.postgres_url)
    with tempfile.TemporaryDirectory(prefix="llmlab-bench-") as tmp:
        for round_no in range(args.rounds):
            with serving("bare_app:app") as bare:
                rounds.setdefault("bare", []).append(measure(bare, "none", args))
                peak_rss["bare"] = bare.peak_rss_mib()
            for backend, postgres_url in chosen:
                data_dir = Path(tmp) / f"{backend}-{round_no}"
                if postgres_url:
                    reset_postgres(postgres_url)
                    url = postgres_url
                else:
                    url = f"sqlite:///{data_dir / 'llmlab.db'}"
                with serving("llmlab_app.api:app", app_env(data_dir, url)) as app:
                    api_key = sign_up(app.base_url)
                    rounds.setdefault(backend, []).append(measure(app, api_key, args))
                    peak_rss[backend] = app.peak_rss_mib()

    figures: dict[str, Any] = {}
    bare_rps = median([r["requests_per_s"] for r in rounds["bare"]])
    for name, runs in rounds.items():
        rps = median([r["requests_per_s"] for r in runs])
        figures[name] = {
            "requests_per_s": round(rps),
            "p50_ms": round(median([r["p50_ms"] for r in runs]), 2),
            "p99_ms": round(median([r["p99_ms"] for r in runs]), 2),
            "ratio_to_bare": round(rps / bare_rps, 3),
            "server_cpu_us_per_request": _median_of(runs, "server_cpu_us_per_request"),
            "peak_rss_mib": None if peak_rss[name] is None else round(peak_rss[name], 1),
            "failures": sum(sum(r["failures"].values()) for r in runs),
            "rounds": runs,
        }

    print(
        f"P1 single-event ingest, {args.concurrency} connections, {args.seconds:g} s x "
        f"{args.rounds} rounds (medians)"
    )
    print(
        f"{'':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}{'peak RSS':>11}"
        f"{'CPU us/req':>12}{'fail':>6}"
    )
    for name, f in figures.items():
        rss = "n/a" if f["peak_rss_mib"] is None else f"{f['peak_rss_mib']:.0f} MiB"
        cpu = f["server_cpu_us_per_request"]
        print(
            f"{name:<12}{f['requests_per_s']:>9,}{f['p50_ms']:>9.1f}{f['p99_ms']:>9.1f}"
            f"{f['ratio_to_bare']:>8.0%}{rss:>11}{'n/a' if cpu is None else f'{cpu:.0f}':>12}"
            f"{f['failures']:>6}"
        )
    for name, f in figures.items():
        if name != "bare":
            verdict = "met" if f["ratio_to_bare"] >= TARGET_RATIO else "MISSED"
            print(f"target {name}: >= {TARGET_RATIO:.0%} of bare -> {verdict}")
    write_results(
        "ingest",
        {
            "benchmark": "P1 single-event ingest",
            "quick": args.quick,
            "concurrency": args.concurrency,
            "seconds_per_round": args.seconds,
            "target_ratio_to_bare": TARGET_RATIO,
            "figures": figures,
        },
    )


if __name__ == "__main__":
    main()
