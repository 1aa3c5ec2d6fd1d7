"""The gateway's cost: latency it adds over calling the provider directly (p50, p99), time to
first byte of a stream, and throughput against a bare pass-through proxy, in the same run.

    .venv/bin/python bench/gateway.py [--quick] [--requests 2000] [--concurrency 16]

Three servers, each `uvicorn <app>` with one worker on loopback: the fake provider
(bench/fake_upstream.py), the bare proxy with the gateway's HTTP client in front of it
(bench/bare_proxy.py: the baseline), and the real app (`llmlab_app.api:app`, SQLite) whose
gateway forwards to the same fake. Latency: one keep-alive connection, requests one at a time,
rounds alternating direct / bare / gateway. Throughput: N connections, alternating rounds of
bare and gateway. Every gateway call does everything a real one does: key, rate limit, budget
check, usage read from the answer, the event recorded (after the answer).

Targets (issue 19): p50 added <= 1 ms; gateway throughput >= 50% of the bare proxy's.
Writes bench/results/gateway.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    Server,
    app_env,
    http_request,
    median,
    percentile,
    run_load,
    serving,
    sign_up,
    write_results,
)

TARGET_ADDED_P50_MS = 1.0
TARGET_THROUGHPUT_RATIO = 0.5
MESSAGES = [{"role": "user", "content": "Say hello."}]


def chat_request(path: str, headers: dict[str, str], stream: bool = False) -> bytes:
    body: dict[str, Any] = {"model": "gpt-4o", "messages": MESSAGES}
    if stream:
        body["stream"] = True
    return http_request("POST", path, json.dumps(body).encode(), headers)


async def _sequential(server: Server, request: bytes, count: int, stream: bool) -> list[float]:
    """Milliseconds per request (to the whole answer, or to a stream's first chunk)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head[9:12] == b"200", head
        if not stream:
            length = next(
                int(line[15:])
                for line in head.split(b"\r\n")
                if line[:15].lower() == b"content-length:"
            )
            await reader.readexactly(length)
            timings.append((time.perf_counter() - began) * 1000)
            continue
        first = True
        while True:  # chunked: size line, data, CRLF; a zero size ends it
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if first:
                timings.append((time.perf_counter() - began) * 1000)
                first = False
            if size == 0:
                break
    writer.close()
    return timings


def sequential(server: Server, request: bytes, count: int, stream: bool = False) -> list[float]:
    return asyncio.run(_sequential(server, request, count, stream))


def latency_figures(timings: dict[str, list[float]]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        name: {"p50_ms": round(percentile(t, 50), 3), "p99_ms": round(percentile(t, 99), 3)}
        for name, t in timings.items()
    }
    for name in ("bare", "gateway"):
        figures[name]["added_p50_ms"] = round(
            figures[name]["p50_ms"] - figures["direct"]["p50_ms"], 3
        )
        figures[name]["added_p99_ms"] = round(
            figures[name]["p99_ms"] - figures["direct"]["p99_ms"], 3
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, figures not comparable")
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput round")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds, args.seconds = 100, 1, 1.0

    with tempfile.TemporaryDirectory() as tmp, serving("fake_upstream:app") as upstream:
        upstream_url = f"{upstream.base_url}/v1"
        gateway_settings = app_env(Path(tmp), f"sqlite:///{Path(tmp) / 'gateway.db'}") | {
            "LLMLAB_GATEWAY_OPENAI_URL": upstream_url
        }
        with (
            serving("bare_proxy:app", {"BARE_PROXY_UPSTREAM": upstream_url}) as bare,
            serving("llmlab_app.api:app", gateway_settings) as gateway,
        ):
            key = sign_up(gateway.base_url)
            provider_key = {"Authorization": "Bearer sk-bench"}
            kinds = {
                "direct": (upstream, "/v1/chat/completions", provider_key),
                "bare": (bare, "/v1/chat/completions", provider_key),
                "gateway": (
                    gateway,
                    "/gateway/openai/v1/chat/completions",
                    provider_key | {"X-LLMLab-Key": key},
                ),
            }
            for server, path, headers in kinds.values():  # warm up (connections, caches)
                sequential(server, chat_request(path, headers), 50)
                sequential(server, chat_request(path, headers, stream=True), 50, stream=True)

            whole: dict[str, list[float]] = {name: [] for name in kinds}
            first_byte: dict[str, list[float]] = {name: [] for name in kinds}
            per_round = max(1, args.requests // args.rounds)
            for _ in range(args.rounds):
                for name, (server, path, headers) in kinds.items():
                    whole[name] += sequential(server, chat_request(path, headers), per_round)
                    first_byte[name] += sequential(
                        server, chat_request(path, headers, stream=True), per_round, stream=True
                    )

            throughput: dict[str, list[dict[str, Any]]] = {"bare": [], "gateway": []}
            for _ in range(args.rounds):
                for name in throughput:
                    server, path, headers = kinds[name]
                    request = chat_request(path, headers)
                    cpu_before = server.cpu_seconds()
                    load = run_load(
                        server,
                        lambda _i, r=request: r,
                        concurrency=args.concurrency,
                        seconds=args.seconds,
                        max_requests=10**9,
                        warmup_requests=200,
                    )
                    summary = load.summary()
                    cpu_after = server.cpu_seconds()
                    # Steadier than requests/s on a shared machine: the server's CPU per call
                    # (the warm-up's 200 calls included in both numbers).
                    if cpu_before is not None and cpu_after is not None:
                        summary["server_cpu_us_per_request"] = round(
                            (cpu_after - cpu_before) * 1e6 / (load.requests + 200)
                        )
                    throughput[name].append(summary)

    non_stream = latency_figures(whole)
    ttfb = latency_figures(first_byte)
    rates = {name: median([r["requests_per_s"] for r in runs]) for name, runs in throughput.items()}
    cpu = {
        name: median([r.get("server_cpu_us_per_request", 0) for r in runs])
        for name, runs in throughput.items()
    }
    ratio = rates["gateway"] / rates["bare"]
    result = {
        "quick": args.quick,
        "sequential_requests_per_kind": per_round * args.rounds,
        "non_stream": non_stream,
        "stream_time_to_first_byte": ttfb,
        "throughput": {
            "concurrency": args.concurrency,
            "rounds": throughput,
            "median_requests_per_s": rates,
            "median_server_cpu_us_per_request": cpu,
            "gateway_vs_bare": round(ratio, 3),
        },
        "targets": {
            "added_p50_ms": TARGET_ADDED_P50_MS,
            "throughput_ratio": TARGET_THROUGHPUT_RATIO,
        },
    }
    path = write_results("gateway", result)

    print(f"{'kind':<22}{'p50 ms':>10}{'p99 ms':>10}{'added p50':>12}{'added p99':>12}")
    for title, figures in (("non-stream", non_stream), ("stream first byte", ttfb)):
        for name in ("direct", "bare", "gateway"):
            row = figures[name]
            added = (
                f"{row['added_p50_ms']:>12.3f}{row['added_p99_ms']:>12.3f}"
                if name != "direct"
                else f"{'':>24}"
            )
            print(f"{title + ' ' + name:<22}{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}{added}")
    print(
        f"throughput at {args.concurrency} connections: bare {rates['bare']:.0f} req/s, "
        f"gateway {rates['gateway']:.0f} req/s, ratio gateway/bare {ratio:.2f} "
        f"(target >= {TARGET_THROUGHPUT_RATIO})"
    )
    print(
        f"server CPU per call: bare {cpu['bare']:.0f} us, gateway {cpu['gateway']:.0f} us "
        "(all threads: the gateway's includes recording the event)"
    )
    print(
        f"target: added p50 <= {TARGET_ADDED_P50_MS} ms: non-stream "
        f"{non_stream['gateway']['added_p50_ms']:.3f} ms, stream first byte "
        f"{ttfb['gateway']['added_p50_ms']:.3f} ms"
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
