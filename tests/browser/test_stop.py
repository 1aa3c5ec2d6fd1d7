"""Stopping the command a user started stops the server: no child keeps serving the port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from app_server import REPO_ROOT, _wait_until_healthy, app_environment, free_port

pytestmark = pytest.mark.slow


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signalling_scripts_run_frees_the_port_within_10_seconds(tmp_path: Path, signum) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(REPO_ROOT / "scripts" / "run"), "--port", str(port), "--host", "127.0.0.1"],
            cwd=REPO_ROOT,
            env=app_environment(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # only so that a failing test can clean up the whole group
        )
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
        started = log.read_text()
        # Reflex's own advice is not true of this product (it builds with bun whatever Node is).
        assert "LLMLab: dashboard and REST API at" in started
        assert "out of date" not in started and "uv run reflex" not in started
        os.kill(process.pid, signum)  # what `kill -TERM <pid>` or Ctrl-C does: this pid only
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            _port_is_free(port) and process.poll() is not None
        ):
            time.sleep(0.2)
        assert _port_is_free(port), f"port {port} still served 10 s after the signal"
        assert process.poll() is not None, "scripts/run did not exit"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
