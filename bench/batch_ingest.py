"""P2 batch ingest: 1,000-event batches through HTTP vs raw inserts of the same rows.

    .venv/bin/python bench/batch_ingest.py [--quick] [--backends sqlite,postgresql]

HTTP: POST /api/events/track with `{"events": [...1,000...]}` over 2 keep-alive connections
(uvicorn, one worker): JSON parsing, validation, API-key auth, pricing, insert, rollup upsert,
commit, budget status, response. Baselines, on a fresh database with the same migrated schema
(same indexes, same UUID primary key): SQLite, `sqlite3` executemany of the same rows, 1,000
per transaction, same pragmas (WAL, synchronous=NORMAL); PostgreSQL, psycopg2 COPY of the same
rows, 1,000 per transaction, the CSV text built before timing. The raw paths do no validation,
pricing or rollup: the ratio is what all of that costs. Figures are medians of rounds.

Writes bench/results/batch_ingest.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
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

from llmlab_app.db.types import quantize_money
from llmlab_core import Usage, price_usage

BATCH = 1_000
MODELS = ["gpt-4o", "gpt-4o-mini", "o3", "claude-sonnet-4-20250514", "gemini-2.5-flash"]
TARGET_SQLITE = 0.6
COLUMNS = (
    "id",
    "org_id",
    "project_id",
    "api_key_id",
    "client_event_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "tokens_used",
    "cost_usd",
    "unpriced",
    "cost_source",
    "price_source",
    "timestamp",
    "latency_ms",
    "status",
    "end_user",
    "tags",
    "metadata",
    "created_at",
)


def make_batches(count: int, seed: int = 11) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    batches = []
    for b in range(count):
        events = []
        for i in range(BATCH):
            input_tokens = rng.randint(100, 8_000)
            events.append(
                {
                    "event_id": f"b{b}-{i}",
                    "model": rng.choice(MODELS),
                    "input_tokens": input_tokens,
                    "cache_read_tokens": rng.randint(0, input_tokens // 2),
                    "output_tokens": rng.randint(10, 1_500),
                    "timestamp": (now - timedelta(seconds=rng.randint(0, 30 * 86_400))).isoformat(),
                    "project": "batch",
                    "latency_ms": rng.randint(200, 5_000),
                    "tags": ["bench"],
                }
            )
        batches.append(events)
    return batches


def stored_rows(batches: list[list[dict[str, Any]]], org_id: uuid.UUID) -> list[list[dict]]:
    """The rows the app would store for these events (priced before any timing starts)."""
    created = datetime.now(UTC)
    out = []
    for events in batches:
        rows = []
        for e in events:
            usage = Usage(
                input_tokens=e["input_tokens"],
                cache_read_tokens=e["cache_read_tokens"],
                output_tokens=e["output_tokens"],
            )
            stamp = datetime.fromisoformat(e["timestamp"])
            price = price_usage(e["model"], usage, at=stamp)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "org_id": org_id,
                    "project_id": None,
                    "api_key_id": None,
                    "client_event_id": e["event_id"],
                    "provider": price.provider or "unknown",
                    "model": e["model"],
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cache_read_tokens": usage.cache_read_tokens,
                    "cache_write_tokens": 0,
                    "reasoning_tokens": 0,
                    "tokens_used": usage.input_tokens + usage.output_tokens,
                    "cost_usd": quantize_money(price.cost_usd) if price.cost_usd else None,
                    "unpriced": price.unpriced,
                    "cost_source": "engine",
                    "price_source": price.price_source,
                    "timestamp": stamp,
                    "latency_ms": e["latency_ms"],
                    "status": "success",
                    "end_user": None,
                    "tags": e["tags"],
                    "metadata": {},
                    "created_at": created,
                }
            )
        out.append(rows)
    return out


# --- HTTP ---------------------------------------------------------------------------------


def http_rows_per_s(
    url: str | None, data_dir: Path, batches: list, concurrency: int
) -> dict[str, Any]:
    """The app on `url`, or with `url` None the bare endpoint (bare_app.py: FastAPI
    validating the same batches, storing nothing)."""
    app_name, env = ("llmlab_app.api:app", app_env(data_dir, url)) if url else ("bare_app:app", {})
    with serving(app_name, env) as app:
        api_key = sign_up(app.base_url) if url else "none"
        headers = {"Authorization": f"Bearer {api_key}"}
        requests = [
            http_request("POST", "/api/events/track", json.dumps({"events": b}).encode(), headers)
            for b in batches
        ]
        # One warm-up batch of its own (new event ids) so imports and caches are hot.
        warm = [{**e, "event_id": "warm-" + e["event_id"]} for e in batches[0]]
        warm_request = http_request(
            "POST", "/api/events/track", json.dumps({"events": warm}).encode(), headers
        )
        run_load(app, lambda i: warm_request, concurrency=1, seconds=60, max_requests=1)
        load = run_load(
            app,
            lambda i: requests[i],
            concurrency=concurrency,
            seconds=600,
            max_requests=len(requests),
        )
    if load.failures:
        raise RuntimeError(f"HTTP batches failed: {load.failures}")
    return {
        "rows_per_s": round(load.requests * BATCH / load.seconds),
        "batch_p50_ms": round(load.p50_ms, 1),
        "batch_p99_ms": round(load.p99_ms, 1),
    }


# --- raw baselines ------------------------------------------------------------------------


def migrated(url: str) -> uuid.UUID:
    """Migrate a fresh database and add one user; returns their organisation's id."""
    from sqlmodel import Session

    from llmlab_app.db.engine import make_engine, migrate
    from llmlab_app.db.models import User
    from llmlab_app.services.orgs import create_personal_organisation

    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session:
        user = User(email="raw@example.com", password_hash="x")
        session.add(user)
        session.flush()
        org_id = create_personal_organisation(session, user=user).id
        session.commit()
    engine.dispose()
    return org_id


def raw_sqlite_rows_per_s(data_dir: Path, batches: list) -> float:
    path = data_dir / "raw.db"
    org_id = migrated(f"sqlite:///{path}")
    rows = [
        [tuple(_sqlite_value(name, row[name]) for name in COLUMNS) for row in batch]
        for batch in stored_rows(batches, org_id)
    ]
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    sql = (
        f"INSERT INTO cost_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    began = time.perf_counter()
    for batch in rows:
        connection.execute("BEGIN")
        connection.executemany(sql, batch)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - began
    assert connection.execute("SELECT count(*) FROM cost_events").fetchone()[0] == len(rows) * BATCH
    connection.close()
    return len(rows) * BATCH / elapsed


def _sqlite_value(name: str, value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: UUID hex, naive UTC text, money in 1e-10 units."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if name == "cost_usd":
        return int(value.scaleb(10))
    if name in {"tags", "metadata"}:
        return json.dumps(value)
    return value


def raw_copy_rows_per_s(url: str, batches: list) -> float:
    import psycopg2

    reset_postgres(url)
    org_id = migrated(url)
    buffers = []
    for batch in stored_rows(batches, org_id):
        text = io.StringIO()
        writer = csv.writer(text)
        for row in batch:
            writer.writerow([_copy_value(row[name]) for name in COLUMNS])
        buffers.append(text.getvalue())
    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    sql = f"COPY cost_events ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for text in buffers:
            cursor.copy_expert(sql, io.StringIO(text))
            connection.commit()
    elapsed = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cost_events")
        assert cursor.fetchone()[0] == len(buffers) * BATCH
    connection.close()
    return len(buffers) * BATCH / elapsed


def _copy_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 batches, one round (~10 s)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    add_app_root_option(parser)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batches", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    use_app_root(args.app_root)
    count = args.batches or (3 if args.quick else 30)
    rounds = args.rounds or (1 if args.quick else 3)
    batches = make_batches(count)

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="llmlab-bench-") as tmp:
        bare_runs = [
            http_rows_per_s(None, Path(tmp), batches, args.concurrency)["rows_per_s"]
            for _ in range(rounds)
        ]
        bare = median(bare_runs)
        for backend, postgres_url in backends(args.backends, args.postgres_url):
            http_runs, raw_runs = [], []
            for round_no in range(rounds):
                data_dir = Path(tmp) / f"{backend}-{round_no}"
                data_dir.mkdir()
                if postgres_url:
                    raw_runs.append(raw_copy_rows_per_s(postgres_url, batches))
                    reset_postgres(postgres_url)
                    http_runs.append(
                        http_rows_per_s(postgres_url, data_dir, batches, args.concurrency)
                    )
                else:
                    raw_runs.append(raw_sqlite_rows_per_s(data_dir, batches))
                    url = f"sqlite:///{data_dir / 'llmlab.db'}"
                    http_runs.append(http_rows_per_s(url, data_dir, batches, args.concurrency))
            http = median([r["rows_per_s"] for r in http_runs])
            raw = median(raw_runs)
            figures[backend] = {
                "http_rows_per_s": round(http),
                "raw_rows_per_s": round(raw),
                "baseline": "sqlite3 executemany" if backend == "sqlite" else "psycopg2 COPY",
                "ratio": round(http / raw, 3),
                # Validation by the framework and the raw insert alone, one after the other
                # in one process: what the app could reach if all else cost nothing.
                "ceiling_rows_per_s": round(1 / (1 / bare + 1 / raw)),
                "ceiling_ratio": round(1 / (1 / bare + 1 / raw) / raw, 3),
                "batch_p50_ms": median([r["batch_p50_ms"] for r in http_runs]),
                "http_rounds": http_runs,
                "raw_rounds": [round(r) for r in raw_runs],
            }

    print(
        f"P2 batch ingest, {count} batches of {BATCH:,} events, {args.concurrency} connections, "
        f"{rounds} rounds (medians)"
    )
    print(f"bare endpoint (FastAPI validation only) {bare:>9,} rows/s")
    for backend, f in figures.items():
        print(
            f"{backend:<11} HTTP {f['http_rows_per_s']:>9,} rows/s   {f['baseline']:<20}"
            f"{f['raw_rows_per_s']:>9,} rows/s   ratio {f['ratio']:.0%}   "
            f"batch p50 {f['batch_p50_ms']:.0f} ms   "
            f"ceiling (validation + raw insert) {f['ceiling_ratio']:.0%}"
        )
    if "sqlite" in figures:
        verdict = "met" if figures["sqlite"]["ratio"] >= TARGET_SQLITE else "MISSED"
        print(f"target sqlite: >= {TARGET_SQLITE:.0%} of raw executemany -> {verdict}")
    write_results(
        "batch_ingest",
        {
            "benchmark": "P2 batch ingest",
            "quick": args.quick,
            "batches": count,
            "events_per_batch": BATCH,
            "concurrency": args.concurrency,
            "rounds": rounds,
            "target_sqlite_ratio": TARGET_SQLITE,
            "bare_rows_per_s": round(bare),
            "bare_rounds": bare_runs,
            "figures": figures,
        },
    )


if __name__ == "__main__":
    main()
