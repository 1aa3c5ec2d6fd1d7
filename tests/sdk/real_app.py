"""Run the real LLMLab API (``llmlab_app.api:app``) under uvicorn, in a subprocess, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealApp:
    """The API on a free port with its own SQLite database in ``data_dir``."""

    def __init__(self, data_dir: Path, *, rate_limit: str = "1000000/minute") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "LLMLAB_DATABASE_URL": f"sqlite:///{data_dir / 'llmlab.db'}",
            "LLMLAB_ENV": "development",
            "LLMLAB_DATA_DIR": str(data_dir),
            "LLMLAB_RATE_LIMIT": rate_limit,
            "LLMLAB_AUTH_RATE_LIMIT": rate_limit,
        }
        self._log = (data_dir / "server.log").open("wb")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "llmlab_app.api:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_healthy(data_dir)

    def _wait_until_healthy(self, data_dir: Path, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text())
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"LLMLab API did not start on {self.url}")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._log.close()
