"""Benchmarks are scripts, not timed tests: CI only checks that each one runs end to end
(`--quick`, SQLite) and prints its figures with their baseline and ratio."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# script -> (arguments, words its report must hold: the figure, its baseline, the ratio)
SCRIPTS = {
    "pricing.py": (["--quick"], ["memoised price_usage", "genai-prices calc", "ratio"]),
    "sdk_overhead.py": (
        ["--quick"],
        [
            "undecorated",
            "decorated",
            "ratio",
            "drain",
            "full queue",
            "queue empty",
            "burst",
            "peak rss",
        ],
    ),
    "ingest.py": (["--quick", "--backends", "sqlite"], ["bare", "sqlite", "vs bare", "p99"]),
    "batch_ingest.py": (
        ["--quick", "--backends", "sqlite"],
        ["http", "sqlite3 executemany", "ratio"],
    ),
    "summary.py": (["--quick", "--backends", "sqlite"], ["summary p50", "/health p50", "t("]),
    "gateway.py": (
        ["--quick"],
        ["direct", "bare", "gateway", "added p50", "first byte", "ratio gateway/bare"],
    ),
    "otlp.py": (
        ["--quick", "--backends", "sqlite"],
        ["rest batch", "otlp protobuf", "otlp json", "ratio to rest batch"],
    ),
    # Builds and starts the real app: runs before the browser tests (alphabetical order).
    "dashboard.py": (["--quick"], ["heavy", "small", "baseline", "heavy / small", "target"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_benchmark_runs_and_reports_against_its_baseline(script: str) -> None:
    arguments, expected = SCRIPTS[script]
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout.lower()
    assert all(word.lower() in output for word in expected), result.stdout[-2000:]


@pytest.mark.slow
def test_live_sessions_bench_keeps_every_session() -> None:
    """P7's smoke run: 50 dashboard sessions for 20 s against two workers on PostgreSQL and
    Redis; it must finish with every session kept and every tracked event shown on every page
    of its organisation within the run's grace (the timings are for bench/README.md)."""
    database_url, redis_url = (
        os.environ.get("LLMLAB_TEST_DATABASE_URL"),
        os.environ.get("LLMLAB_TEST_REDIS_URL"),
    )
    if not (database_url and redis_url):
        pytest.skip("needs LLMLAB_TEST_DATABASE_URL (PostgreSQL) and LLMLAB_TEST_REDIS_URL")
    env = os.environ | {
        # A database of its own: the run drops and recreates its schema.
        "LLMLAB_BENCH_SESSIONS_DATABASE_URL": database_url + "_p7",
        "LLMLAB_BENCH_REDIS_URL": redis_url,
    }
    result = subprocess.run(
        [sys.executable, str(BENCH / "sessions.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=BENCH.parent,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "dropped sessions 0 " in result.stdout, result.stdout[-2000:]
    assert "event-to-screen p50" in result.stdout, result.stdout[-2000:]
    assert " 0 missed)" in result.stdout, result.stdout[-2000:]
