"""What the HTTP benchmarks share: a uvicorn server in a subprocess, a loopback load generator,
the databases they run against and the JSON results they write.

The load generator is a small HTTP/1.1 keep-alive client on asyncio streams, not httpx: on two
shared cores httpx's own per-request cost (~0.3 ms) would cap the load below what the bare
endpoint serves, and the ratio would then measure the client. It sends pre-built request bytes
over N connections and reads each response by its Content-Length.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
JWT_SECRET = "bench-secret-" + "z" * 40
# `createdb -h 127.0.0.1 -U postgres bench`; every run drops and recreates its schema.
DEFAULT_POSTGRES_URL = os.environ.get(
    "LLMLAB_BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/bench"
)


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def peak_rss_mib(self) -> float | None:
        """High-water resident memory of the server process (Linux), in MiB."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process so far (Linux), all its threads."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def app_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """The app's settings for a benchmark: the real defaults except a rate limit high enough
    that the limiter counts every request (same code path) but refuses none. Per second, not
    per minute: the moving window keeps one entry per hit in the window, so a per-minute limit
    this high would hold a minute of hits and make each hit slower than in real use."""
    return {
        "LLMLAB_ENV": "development",
        "LLMLAB_DATA_DIR": str(data_dir),
        "LLMLAB_DATABASE_URL": database_url,
        "LLMLAB_JWT_SECRET": JWT_SECRET,
        "LLMLAB_RATE_LIMIT": "1000000/second",
        "LLMLAB_AUTH_RATE_LIMIT": "1000/minute",
    }


# The checkout whose app the servers run: this one, or another (`--app-root`, e.g. an export
# of the last commit) to measure a "before" with the same scripts.
APP_ROOT = Path(os.environ.get("LLMLAB_BENCH_APP_ROOT", REPO_ROOT))


def add_app_root_option(parser: Any) -> None:
    parser.add_argument(
        "--app-root",
        type=Path,
        default=None,
        help="serve the app from another checkout (e.g. `git archive HEAD` unpacked)",
    )


def use_app_root(root: Path | None) -> None:
    global APP_ROOT
    if root is not None:
        APP_ROOT = root.resolve()


@contextmanager
def serving(app: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`uvicorn <app>` with one worker and uvicorn's defaults (the same for every app)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning"],
        env=os.environ | {"PYTHONPATH": f"{APP_ROOT}:{BENCH_DIR}"} | (env or {}),
        cwd=APP_ROOT,
        start_new_session=True,
    )
    server = Server(process, "127.0.0.1", port)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start within {timeout} s")


def sign_up(base_url: str, email: str = "bench@example.com") -> str:
    """A new account on a running app; returns its API key."""
    response = httpx.post(
        f"{base_url}/api/auth/signup",
        json={"email": email, "password": "bench password 1"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["data"]["api_key"]["key"]


# --- databases ----------------------------------------------------------------------------


def postgres_available(url: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def reset_postgres(url: str) -> None:
    """Empty the benchmark database (its own database, never the test suite's)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def backends(names: str, postgres_url: str) -> list[tuple[str, str | None]]:
    """[(backend, postgres url or None for SQLite)], skipping PostgreSQL when unreachable."""
    chosen: list[tuple[str, str | None]] = []
    for name in names.split(","):
        if name == "sqlite":
            chosen.append(("sqlite", None))
        elif name == "postgresql":
            if postgres_available(postgres_url):
                chosen.append(("postgresql", postgres_url))
            else:
                print(f"postgresql: skipped ({postgres_url} unreachable)")
        else:
            raise SystemExit(f"unknown backend {name!r}")
    return chosen


# --- load generator -----------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    failures: dict[int, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.per_second),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "failures": {str(k): v for k, v in self.failures.items()},
        }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def http_request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> bytes:
    """One HTTP/1.1 keep-alive request as bytes."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in {"POST", "PUT"}:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def run_load(
    server: Server,
    make_request: Callable[[int], bytes],
    *,
    concurrency: int,
    seconds: float,
    max_requests: int,
    warmup_requests: int = 0,
) -> Load:
    """Keep `concurrency` connections busy until `seconds` pass or `max_requests` complete.

    `make_request(i)` builds request number i (unique bodies, e.g. event ids). The warm-up
    requests are sent first and not counted. Non-2xx answers are counted as failures.
    """
    return asyncio.run(
        _run_load(server, make_request, concurrency, seconds, max_requests, warmup_requests)
    )


async def _run_load(
    server: Server,
    make_request: Callable[[int], bytes],
    concurrency: int,
    seconds: float,
    max_requests: int,
    warmup_requests: int,
) -> Load:
    counter = iter(range(10**12))
    connections = [
        await asyncio.open_connection(server.host, server.port) for _ in range(concurrency)
    ]
    failures: dict[int, int] = {}
    latencies: list[float] = []

    async def worker(reader: Any, writer: Any, stop_at: float, budget: list[int], record: bool):
        while budget[0] > 0 and time.perf_counter() < stop_at:
            budget[0] -= 1
            request = make_request(next(counter))
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if record:
                latencies.append((time.perf_counter() - began) * 1000)
            if not 200 <= status < 300:
                failures[status] = failures.get(status, 0) + 1

    if warmup_requests:
        budget = [warmup_requests]
        await asyncio.gather(
            *(worker(r, w, time.perf_counter() + 60, budget, False) for r, w in connections)
        )
        failures.clear()
    budget = [max_requests]
    began = time.perf_counter()
    await asyncio.gather(*(worker(r, w, began + seconds, budget, True) for r, w in connections))
    elapsed = time.perf_counter() - began
    for _, writer in connections:
        writer.close()
    return Load(len(latencies), elapsed, latencies, failures)


# --- results ------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_results(name: str, result: dict[str, Any]) -> Path:
    """bench/results/<name>.json; <name>.before.json for another `--app-root`, and
    <name>.quick.json for a `--quick` smoke run, which must not replace the real figures."""
    suffix = "" if APP_ROOT == REPO_ROOT else ".before"
    suffix += ".quick" if result.get("quick") else ""
    path = RESULTS_DIR / f"{name}{suffix}.json"
    result = result | {
        "app_root": str(APP_ROOT),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
