"""A real HTTP server on a free local port standing in for a webhook receiver (Slack, or a
user's own endpoint): it records what it is sent and answers what it is told to."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Answers the queued `failures` status codes first (body "receiver unavailable"), then
    `answer` (default 200 "ok", as Slack does)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.answer: tuple[int, bytes, dict[str, str]] = (200, b"ok", {})
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "json": json.loads(body), "raw": body}
                    )
                    if receiver.failures:
                        code, text, headers = receiver.failures.pop(0), b"receiver unavailable", {}
                    else:
                        code, text, headers = receiver.answer
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/budget"

    @property
    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [request["json"] for request in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
