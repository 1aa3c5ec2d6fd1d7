"""Start the real app (production build, one port) and talk to its REST API.

Shared by the browser tests' session fixture and `scripts/screenshots.py`.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 240
# With a Redis URL (CI sets LLMLAB_TEST_REDIS_URL) the app runs the way a real deployment
# does: several workers on one port sharing Redis for Reflex state and rate limits.
MULTI_WORKERS = 3
MULTI_WORKER_RATE_LIMIT = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bun_path() -> str:
    script = REPO_ROOT / "scripts" / "install_bun.sh"
    return subprocess.run([str(script)], check=True, capture_output=True, text=True).stdout.strip()


def multi_worker_environment() -> dict[str, str]:
    """Settings for several workers sharing Redis, or none without LLMLAB_TEST_REDIS_URL."""
    redis_url = os.environ.get("LLMLAB_TEST_REDIS_URL")
    if not redis_url:
        return {}
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # counters and sessions of earlier runs
    return {
        "LLMLAB_REDIS_URL": redis_url,
        "GRANIAN_WORKERS": str(MULTI_WORKERS),
        "LLMLAB_RATE_LIMIT": f"{MULTI_WORKER_RATE_LIMIT}/minute",
    }


def app_environment(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LLMLAB_DATABASE_URL": f"sqlite:///{data_dir / 'llmlab.db'}",
        "LLMLAB_DATA_DIR": str(data_dir),
        "LLMLAB_ENV": "development",
        # The tests' webhook receivers listen on this machine.
        "LLMLAB_WEBHOOK_ALLOW_PRIVATE": "1",
        # A failed delivery is retried 15 s later by default: it would change the attempt
        # counts a page is checked against while the test still runs.
        "LLMLAB_WEBHOOK_BACKOFF_SECONDS": "3600",
        # Every test signs in from 127.0.0.1: the per-address limit would soon refuse them.
        "LLMLAB_AUTH_RATE_LIMIT": "1000/minute",
        "REFLEX_BUN_PATH": bun_path(),
        "REFLEX_CHECK_LATEST_VERSION": "false",
        # Sessions stored by earlier runs belong to other databases.
        "REFLEX_STATES_WORKDIR": str(data_dir / "states"),
    }


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"app not healthy after {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


@contextmanager
def running_app(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The app started the way the README does (`scripts/run` ends in this command) on a free
    port with its own SQLite file; yields the base URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data_dir / "app.log"
    command = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "llmlab_app.server"]
    command += ["--port", str(port), "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=app_environment(data_dir) | (extra_env or {}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches every child
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process, log)
        yield base_url
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Api:
    """The few REST calls the browser tests and the screenshot script need."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)

    def _data(self, response: httpx.Response) -> Any:
        body = response.json()
        assert response.status_code < 400 and body["success"], body
        return body["data"]

    def signup(self, email: str, password: str) -> dict[str, Any]:
        return self._data(
            self.client.post("/api/auth/signup", json={"email": email, "password": password})
        )

    def track(self, api_key: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        headers = {"X-API-Key": api_key}
        sent: dict[str, Any] = {"events": []}
        for start in range(0, len(events), 1000):
            batch = {"events": events[start : start + 1000]}
            data = self._data(self.client.post("/api/events/track", json=batch, headers=headers))
            sent["events"] += data["events"]
        return sent

    def create_project(self, access_token: str, name: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self._data(self.client.post("/api/projects", json={"name": name}, headers=headers))

    def create_budget(self, access_token: str, **budget: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self._data(self.client.post("/api/budgets", json=budget, headers=headers))

    def create_key(self, access_token: str, name: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self._data(self.client.post("/api/keys", json={"name": name}, headers=headers))

    def create_price_override(self, access_token: str, **prices: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}"}
        return self._data(self.client.post("/api/prices/overrides", json=prices, headers=headers))

    def get(self, api_key: str, path: str, **params: Any) -> httpx.Response:
        """A raw GET with an API key, for tests that check the status code themselves."""
        return self.client.get(path, params=params, headers={"X-API-Key": api_key})

    def data(self, api_key: str, method: str, path: str, **kwargs: Any) -> Any:
        """The `data` of a successful call made with an API key."""
        headers = {"X-API-Key": api_key}
        return self._data(self.client.request(method, path, headers=headers, **kwargs))


# (provider, model, input tokens, output tokens, cached share, calls per day, project)
_DEMO_TRAFFIC = [
    ("openai", "gpt-4o", 2_400, 650, 0.3, 40, "support-bot"),
    ("openai", "gpt-4o-mini", 1_800, 400, 0.0, 160, "support-bot"),
    ("anthropic", "claude-sonnet-4-20250514", 5_000, 1_200, 0.5, 30, "code-review"),
    ("google", "gemini-2.0-flash", 3_000, 500, 0.0, 60, "search"),
    ("custom", "acme-internal-llm", 1_000, 300, 0.0, 3, "search"),
]


def demo_events(now: datetime, *, days: int = 30, seed: int = 7) -> list[dict[str, Any]]:
    """A month of plausible traffic: weekday peaks, one unpriced in-house model."""
    rng = random.Random(seed)
    events = []
    for day_offset in range(days, -1, -1):
        day = now - timedelta(days=day_offset)
        weekday_factor = 0.45 if day.weekday() >= 5 else 1.0
        growth = 0.7 + 0.6 * (days - day_offset) / days
        for provider, model, tokens_in, tokens_out, cached, calls, project in _DEMO_TRAFFIC:
            # Today has had only its hours so far: a full day's calls would read as a spike.
            day_share = (now.hour + 1) / 24 if day_offset == 0 else 1.0
            count = max(
                1,
                round(calls * weekday_factor * growth * day_share * rng.uniform(0.8, 1.2) / 10),
            )
            last_hour = now.hour if day_offset == 0 else 23
            for index in range(count):
                stamp = day.replace(hour=rng.randint(0, last_hour), minute=rng.randint(0, 59))
                stamp = min(stamp, now - timedelta(minutes=1))
                input_tokens = round(tokens_in * 10 * rng.uniform(0.6, 1.4))
                events.append(
                    {
                        "event_id": f"demo-{model}-{day:%Y%m%d}-{index}",
                        "provider": provider,
                        "model": model,
                        "input_tokens": input_tokens,
                        "cache_read_tokens": round(input_tokens * cached),
                        "output_tokens": round(tokens_out * 10 * rng.uniform(0.6, 1.4)),
                        "timestamp": stamp.isoformat(),
                        "project": project,
                        # A long tag now and then: the events table must not clip it.
                        "tags": [rng.choice(["chat", "batch", "eval"])]
                        + (["experimental"] if rng.random() < 0.15 else []),
                        "latency_ms": rng.randint(300, 4_000),
                        "status": "error" if rng.random() < 0.02 else "success",
                    }
                )
    return events


def utc_now() -> datetime:
    return datetime.now(UTC)
