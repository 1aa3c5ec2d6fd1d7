"""The database goes away under load and comes back: the app answers 503 envelopes meanwhile
(never a 500 or a hang) and recovers by itself, without a restart."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port, start_api_server

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of this test's own, so stopping it disturbs nobody."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        shutil.chown(root, "postgres")
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.mark.slow
@pytest.mark.skipif(
    not (PG_BIN / "initdb").exists() or os.geteuid() != 0,
    reason="needs PostgreSQL 15's server binaries and root (to run them as postgres)",
)
def test_app_answers_503_while_the_database_is_down_and_recovers(tmp_path):
    # Outside pytest's tmp tree: its parents are private to root, postgres could not enter.
    root = Path(tempfile.mkdtemp(prefix="llmlab-pg-"))
    postgres = PrivatePostgres(root)
    postgres.start()
    server = None
    try:
        server = start_api_server(
            tmp_path / "app",
            {"LLMLAB_DATABASE_URL": postgres.url, "LLMLAB_RATE_LIMIT": "100000/minute"},
        )
        client = httpx.Client(base_url=server.base_url, timeout=15)
        key = client.post(
            "/api/auth/signup", json={"email": "dba@example.com", "password": "long enough"}
        ).json()["data"]["api_key"]["key"]
        headers = {"X-API-Key": key}
        codes: Counter[int] = Counter()
        bad_bodies: list[str] = []
        unanswered: list[dict] = []  # what a client must send again: the 503s
        sent = 0
        stop = threading.Event()

        def load() -> None:
            nonlocal sent
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=15) as c:
                while not stop.is_set():
                    event = {"model": "gpt-4o", "input_tokens": 10, "event_id": f"load-{sent}"}
                    sent += 1
                    response = c.post("/api/events/track", json=event)
                    codes[response.status_code] += 1
                    if response.status_code != 200:
                        unanswered.append(event)
                    body = response.json()
                    if set(body) != {"success", "data", "error", "timestamp"}:
                        bad_bodies.append(response.text[:200])

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(1)
        postgres.stop()
        time.sleep(2)
        down = client.get("/api/costs/summary", headers=headers)
        health = client.get("/health")
        postgres.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if client.get("/api/costs/summary", headers=headers).status_code == 200:
                break
            time.sleep(0.2)
        time.sleep(1)
        stop.set()
        thread.join()

        assert down.status_code == 503 and down.json()["error"].startswith("database unavailable")
        assert health.status_code == 503 and health.json()["data"]["database"] == "unavailable"
        assert bad_bodies == []
        assert set(codes) <= {200, 503}, codes
        assert codes[200] > 0
        # A 503 may hide a commit whose answer was lost with the database: sending the same
        # event_id again (what the SDK does) stores each event exactly once.
        for event in unanswered:
            assert client.post("/api/events/track", json=event, headers=headers).status_code == 200
        calls = client.get("/api/costs/summary", headers=headers).json()["data"]["calls"]
        assert calls == sent
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
