"""The server's Prometheus metrics (GET /metrics).

With several workers (`llmlab serve --workers N`) each process writes its values to files
under PROMETHEUS_MULTIPROC_DIR, which `llmlab serve` sets (and empties at start), and a scrape
adds them up across processes. Label values come from fixed small sets: never a user, key,
model or URL.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# prometheus-client's own variable: set, every process writes its values there.
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

EVENTS_INGESTED = Counter(
    "llmlab_events_ingested",
    "Events stored by tracking, by source (repeats of a stored event_id are not counted).",
    ["source"],
)
EVENTS_REJECTED = Counter(
    "llmlab_events_rejected",
    "Tracking requests refused, by source and reason (a refused batch counts once).",
    ["source", "reason"],
)
INGEST_LATENCY = Histogram(
    "llmlab_ingest_latency_seconds",
    "Time to answer a tracking request, refused ones included, by source.",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INGEST_QUEUE_DEPTH = Gauge(
    "llmlab_ingest_queue_depth",
    "Track requests waiting for the database writer thread (sampled once per round).",
    multiprocess_mode="livesum",
)
WEBHOOK_DELIVERIES = Counter(
    "llmlab_webhook_deliveries",
    "Budget alert webhook attempts, by outcome (delivered, retrying, failed).",
    ["outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "llmlab_rate_limit_refusals",
    "Requests refused by a rate limit (429), by scope (api, auth).",
    ["scope"],
)
DASHBOARD_SESSIONS = Gauge(
    "llmlab_dashboard_sessions",
    "Dashboard websockets connected (each process samples its own every few seconds).",
    multiprocess_mode="livesum",
)


def render_metrics() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, and its content type."""
    if multiproc_dir := os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def forget_this_process() -> None:
    """Drop this process's live gauges (queue depth, sessions) when it stops, so a scrape
    does not add up the values of workers that are gone."""
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        multiprocess.mark_process_dead(os.getpid())
