"""Start the real API (`uvicorn llmlab_app.api:app`) in a subprocess on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    process: subprocess.Popen
    base_url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def start_api_server(
    data_dir: Path, env: dict[str, str] | None = None, port: int | None = None, workers: int = 1
) -> LiveServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    full_env = (
        os.environ
        | {
            "LLMLAB_ENV": "development",
            "LLMLAB_DATA_DIR": str(data_dir),
            "LLMLAB_DATABASE_URL": f"sqlite:///{data_dir / 'llmlab.db'}",
            "LLMLAB_JWT_SECRET": "live-server-secret-" + "y" * 40,
        }
        | (env or {})
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "llmlab_app.api:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=full_env,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return LiveServer(process, base_url)
        except httpx.HTTPError:
            time.sleep(0.1)
    LiveServer(process, base_url).stop()
    raise RuntimeError("API server did not become healthy within 30 s")
