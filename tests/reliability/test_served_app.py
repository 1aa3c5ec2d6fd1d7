"""The app as `llmlab serve` / `scripts/run` start it (production build, one port), checked
from outside: where it listens, which origins it answers, what headers its pages carry."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser.app_server import REPO_ROOT, app_environment, free_port

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 240
EVIL = "https://evil.example"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
}


@contextmanager
def served_app(data_dir: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`python -m llmlab_app.server --port N` (what scripts/run runs), without `--host`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data_dir / "app.log"
    command = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "llmlab_app.server"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=REPO_ROOT,
            env=app_environment(data_dir) | env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"app exited:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"app not healthy:\n{log.read_text()[-4000:]}")
            time.sleep(0.25)
        yield base_url, port
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def socket_handshake_status(port: int, origin: str) -> int:
    """The HTTP status the dashboard's event socket answers a WebSocket handshake from a page
    of `origin` (101: accepted)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def preflight(base_url: str, path: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{base_url}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )


def outward_address() -> str | None:
    """This machine's address on its default route, if it has one besides loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))  # no packet is sent
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_default_app_is_local_same_origin_and_sends_security_headers(tmp_path):
    env = {"LLMLAB_PUBLIC_URL": "https://llmlab.example.com"}
    with served_app(tmp_path / "default", env) as (base_url, port):
        # Listens on this machine only when no --host is given.
        outward = outward_address()
        if outward is not None:
            with pytest.raises(OSError):
                socket.create_connection((outward, port), timeout=3).close()

        # Another origin's preflight is refused everywhere: the API, Reflex's own routes.
        # (Reflex's CORS layer still adds `allow-credentials` to its refusal; without an
        # allowed origin a browser goes no further.)
        for path in ("/api/costs/summary", "/api/auth/login", "/", "/_upload", "/ping"):
            response = preflight(base_url, path, EVIL)
            assert "access-control-allow-origin" not in response.headers, path
            assert response.status_code == 400, path

        # The event socket: the app's own origin (as reached, or its public URL) only.
        assert socket_handshake_status(port, EVIL) != 101
        assert socket_handshake_status(port, "null") != 101
        assert socket_handshake_status(port, base_url) == 101
        assert socket_handshake_status(port, "https://llmlab.example.com") == 101

        # Security headers on dashboard pages, static assets, Reflex's routes and the API.
        pages = ["/", "/signin/", "/budgets/", "/settings/", "/ping", "/health", "/api/nothing"]
        for path in pages:
            response = httpx.get(f"{base_url}{path}", timeout=10)
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (path, name, dict(response.headers))
            assert response.headers.get("strict-transport-security") == "max-age=63072000"
        html = httpx.get(f"{base_url}/signin/", timeout=10)
        assert html.status_code == 200 and "<title>" in html.text


def test_cors_origins_govern_the_api_the_app_and_the_socket(tmp_path):
    env = {"LLMLAB_CORS_ORIGINS": '["https://app.example"]'}
    with served_app(tmp_path / "cors", env) as (base_url, port):
        for path in ("/api/costs/summary", "/"):
            allowed = preflight(base_url, path, "https://app.example")
            assert allowed.headers.get("access-control-allow-origin") == "https://app.example"
            refused = preflight(base_url, path, EVIL)
            assert "access-control-allow-origin" not in refused.headers
        assert socket_handshake_status(port, "https://app.example") == 101
        assert socket_handshake_status(port, base_url) == 101
        assert socket_handshake_status(port, EVIL) != 101
