"""OTLP ingest: model-call spans per second through POST /api/otel/v1/traces vs the same calls
as REST batches through POST /api/events/track, in the same server run.

    .venv/bin/python bench/otlp.py [--quick] [--backends sqlite,postgresql]

Each export holds 512 chat spans (the OpenTelemetry SDK's default `max_export_batch_size`) as
`opentelemetry-instrumentation-openai-v2` writes them (model, provider, response id, usage with
cached tokens) beside 512 HTTP client spans the receiver must skip, encoded before timing as
protobuf (what the exporters send) and as OTLP JSON. The baseline is the same 512 calls per
request as a `{"events": [...]}` batch. Every request has new ids, so everything is stored.
Two keep-alive connections, uvicorn with one worker; per round a fresh database, the order of
the three loads rotated; figures are medians of rounds.

Writes bench/results/otlp.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.otel.payloads import as_otlp_json, export_request, new_span

SPANS = 512
MODELS = ["gpt-4o-2024-08-06", "gpt-4o-mini", "o3"]
LOADS = ("rest batch", "otlp protobuf", "otlp json")


def calls(request_no: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i in range(SPANS):
        input_tokens = rng.randint(100, 8_000)
        out.append(
            {
                "id": f"chatcmpl-{request_no}-{i}",
                "model": rng.choice(MODELS),
                "input_tokens": input_tokens,
                "cache_read_tokens": rng.randint(0, input_tokens // 2),
                "output_tokens": rng.randint(10, 1_500),
            }
        )
    return out


def rest_body(batch: list[dict[str, Any]]) -> bytes:
    events = [
        {
            "event_id": f"openai:{c['id']}",
            "provider": "openai",
            "model": c["model"],
            "input_tokens": c["input_tokens"],
            "cache_read_tokens": c["cache_read_tokens"],
            "output_tokens": c["output_tokens"],
            "project": "checkout",
            "latency_ms": 250,
        }
        for c in batch
    ]
    return json.dumps({"events": events}).encode()


def otlp_message(batch: list[dict[str, Any]]) -> Any:
    spans = []
    for c in batch:
        chat = new_span(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": c["model"],
                "gen_ai.response.model": c["model"],
                "gen_ai.response.id": c["id"],
                "gen_ai.response.finish_reasons": ["stop"],
                "gen_ai.usage.input_tokens": c["input_tokens"],
                "gen_ai.usage.cache_read.input_tokens": c["cache_read_tokens"],
                "gen_ai.usage.output_tokens": c["output_tokens"],
                "server.address": "api.openai.com",
            }
        )
        http = new_span(
            {"http.request.method": "POST", "url.full": "https://api.openai.com/v1/chat"},
            trace_id=chat.trace_id,
            parent=chat.span_id,
        )
        spans += [http, chat]
    return export_request(spans, {"service.name": "checkout"})


def requests_for(count: int, seed: int) -> dict[str, list[bytes]]:
    """Pre-encoded bodies of each load, each with calls of its own."""
    rng = random.Random(seed)
    bodies: dict[str, list[bytes]] = {load: [] for load in LOADS}
    for n in range(count):
        bodies["rest batch"].append(rest_body(calls(n, rng)))
        message = otlp_message(calls(count + n, rng))
        bodies["otlp protobuf"].append(message.SerializeToString())
        bodies["otlp json"].append(as_otlp_json(otlp_message(calls(2 * count + n, rng))))
    return bodies


def run_round(
    database_url: str, data_dir: Path, bodies: dict[str, list[bytes]], order: list[str], conns: int
) -> dict[str, dict[str, Any]]:
    paths = {
        "rest batch": ("/api/events/track", "application/json"),
        "otlp protobuf": ("/api/otel/v1/traces", "application/x-protobuf"),
        "otlp json": ("/api/otel/v1/traces", "application/json"),
    }
    out = {}
    with serving("llmlab_app.api:app", app_env(data_dir, database_url)) as app:
        headers = {"Authorization": f"Bearer {sign_up(app.base_url)}"}
        warm = rest_body(calls(10**6, random.Random(0)))
        warm_request = http_request("POST", "/api/events/track", warm, headers)
        run_load(app, lambda i: warm_request, concurrency=1, seconds=60, max_requests=1)
        for load in order:
            path, content_type = paths[load]
            requests = [http_request("POST", path, b, headers, content_type) for b in bodies[load]]
            result = run_load(
                app,
                lambda i, requests=requests: requests[i],
                concurrency=conns,
                seconds=600,
                max_requests=len(requests),
            )
            if result.failures:
                raise RuntimeError(f"{load}: failed requests {result.failures}")
            out[load] = {
                "calls_per_s": round(result.requests * SPANS / result.seconds),
                "request_p50_ms": round(result.p50_ms, 1),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 requests per load, one round")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    add_app_root_option(parser)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    use_app_root(args.app_root)
    count = args.requests or (2 if args.quick else 20)
    rounds = args.rounds or (1 if args.quick else 3)
    began = time.perf_counter()
    bodies = requests_for(count, seed=7)
    encode_s = time.perf_counter() - began

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="llmlab-bench-") as tmp:
        for backend, postgres_url in backends(args.backends, args.postgres_url):
            runs = []
            for round_no in range(rounds):
                data_dir = Path(tmp) / f"{backend}-{round_no}"
                data_dir.mkdir()
                if postgres_url:
                    reset_postgres(postgres_url)
                url = postgres_url or f"sqlite:///{data_dir / 'llmlab.db'}"
                order = list(LOADS[round_no % 3 :] + LOADS[: round_no % 3])
                runs.append(run_round(url, data_dir, bodies, order, args.concurrency))
            figures[backend] = {
                load: {
                    "calls_per_s": median([r[load]["calls_per_s"] for r in runs]),
                    "request_p50_ms": median([r[load]["request_p50_ms"] for r in runs]),
                }
                for load in LOADS
            }
            base = figures[backend]["rest batch"]["calls_per_s"]
            for load in LOADS:
                figures[backend][load]["ratio_to_rest_batch"] = round(
                    figures[backend][load]["calls_per_s"] / base, 3
                )
            figures[backend]["rounds"] = runs

    print(
        f"OTLP ingest, {count} requests of {SPANS} model calls per load ({SPANS} more HTTP "
        f"spans skipped in each export), {args.concurrency} connections, {rounds} rounds (medians)"
    )
    for backend, f in figures.items():
        for load in LOADS:
            print(
                f"{backend:<11} {load:<14} {f[load]['calls_per_s']:>8,} calls/s   "
                f"request p50 {f[load]['request_p50_ms']:>6.0f} ms   "
                f"ratio to rest batch {f[load]['ratio_to_rest_batch']:.0%}"
            )
    write_results(
        "otlp",
        {
            "benchmark": "OTLP ingest vs REST batch",
            "quick": args.quick,
            "requests_per_load": count,
            "calls_per_request": SPANS,
            "concurrency": args.concurrency,
            "rounds": rounds,
            "encode_seconds": round(encode_s, 2),
            "figures": figures,
        },
    )


if __name__ == "__main__":
    main()
