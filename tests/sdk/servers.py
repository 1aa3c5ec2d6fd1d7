"""A real HTTP server in a background thread, on a free loopback port, for tests."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JSONHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler with small helpers; subclasses implement ``handle_request``."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK, ~40 ms a request on loopback.
    disable_nagle_algorithm = True
    server: LocalServer

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    def setup(self) -> None:
        super().setup()
        self.server.track_connection(self.connection, self.client_address)

    def read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_sse(
        self,
        events: list[tuple[str | None, Any]],
        pause_after: int | None = None,
        release: threading.Event | None = None,
    ) -> None:
        """Stream Server-Sent Events (``(event name or None, data)``) with chunked encoding;
        with ``pause_after``, wait for ``release`` (10 s at most) after that many events."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for index, (name, data) in enumerate(events):
                if index == pause_after and release is not None:
                    release.wait(10)
                text = data if isinstance(data, str) else json.dumps(data)
                frame = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
                chunk = frame.encode()
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left mid-stream

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def handle_request(self, method: str) -> None:
        raise NotImplementedError


class LocalServer(ThreadingHTTPServer):
    """Serves ``handler`` on 127.0.0.1; can be stopped and started again on the same port."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self._connections: list[socket.socket] = []
        self.client_addresses: list[tuple[str, int]] = []
        self._conn_lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)

    def track_connection(self, connection: socket.socket, address: tuple[str, int]) -> None:
        with self._conn_lock:
            self._connections.append(connection)
            self.client_addresses.append(address)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop accepting and cut every open connection, like a crashed server."""
        self.shutdown()
        self.server_close()
        with self._conn_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()
