"""A small stand-in for LLMLab's ingest API: the track route and the budgets list.

It keeps events by ``event_id`` (a re-sent id is answered as a duplicate, like the real server),
rejects a whole batch with 422 naming the first invalid event, and can be scripted to fail
(``fail_next``), to lose its answer after storing a batch, or to go down and come back.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .servers import JSONHandler, LocalServer

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


@dataclass
class ScriptedFailure:
    status: int | None  # None: store the batch, then drop the connection without answering
    retry_after: str | None = None


@dataclass
class IngestState:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    receipts: Counter[str] = field(default_factory=Counter)
    requests: list[dict[str, Any]] = field(default_factory=list)
    request_times: list[float] = field(default_factory=list)
    script: deque[ScriptedFailure] = field(default_factory=deque)
    budgets: list[dict[str, Any]] = field(default_factory=list)
    budget_reads: int = 0
    api_key: str = "llmlab_test_key"
    name_invalid_index: bool = True
    max_events_per_request: int = 1000
    gate: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)


def envelope(data: Any = None, error: str | None = None) -> dict[str, Any]:
    return {
        "success": error is None,
        "data": data,
        "error": error,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


def _first_invalid(events: list[dict[str, Any]], name_index: bool) -> str | None:
    for index, event in enumerate(events):
        where = f"events[{index}]." if name_index else ""
        if (event.get("metadata") or {}).get("poison"):
            return f"{where}metadata: this event is invalid"
        if not event.get("model"):
            return f"{where}model: Field required"
        for name in TOKEN_FIELDS:
            value = event.get(name, 0)
            if not isinstance(value, int) or value < 0:
                return f"{where}{name}: Input should be greater than or equal to 0"
    return None


class IngestHandler(JSONHandler):
    state: IngestState

    def handle_request(self, method: str) -> None:
        state = self.server.state  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        if self.headers.get("Authorization") != f"Bearer {state.api_key}":
            self.send_json(401, envelope(error="invalid API key"))
            return
        if method == "GET" and path == "/api/budgets":
            with state.changed:
                state.budget_reads += 1
                state.changed.notify_all()
            self.send_json(200, envelope(state.budgets))
            return
        if method != "POST" or path != "/api/events/track":
            self.send_json(404, envelope(error="not found"))
            return
        body = self.read_json()
        events = body["events"] if isinstance(body, dict) and "events" in body else [body]
        with state.changed:
            state.requests.append({"events": events})
            state.request_times.append(time.monotonic())
            state.changed.notify_all()
        state.gate.wait()
        with state.changed:
            failure = state.script.popleft() if state.script else None
        if failure is not None and failure.status is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            self.send_json(failure.status, envelope(error="scripted failure"), headers)
            return
        if len(events) > state.max_events_per_request:
            self.send_json(413, envelope(error="request body too large"))
            return
        problem = _first_invalid(events, state.name_invalid_index)
        if problem is not None:
            self.send_json(422, envelope(error=problem))
            return
        results = []
        with state.changed:
            for event in events:
                event_id = event["event_id"]
                duplicate = event_id in state.events
                state.receipts[event_id] += 1
                state.events.setdefault(event_id, event)
                results.append(
                    {
                        "id": f"row-{event_id}",
                        "event_id": event_id,
                        "cost_usd": None,
                        "unpriced": True,
                        "duplicate": duplicate,
                    }
                )
            state.changed.notify_all()
        if failure is not None:  # stored, but the answer is lost on the way back
            self.close_connection = True
            self.connection.close()
            return
        self.send_json(200, envelope({"events": results, "budgets": state.budgets}))


class IngestStub:
    """Owns the state and the (restartable) server in front of it."""

    def __init__(self) -> None:
        self.state = IngestState()
        self.state.gate.set()
        self._server = self._serve(port=0)
        self.port = self._server.port

    def hold_requests(self) -> None:
        """Make track requests wait (after being counted) until ``release_requests``."""
        self.state.gate.clear()

    def release_requests(self) -> None:
        self.state.gate.set()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        with self.state.changed:
            return self.state.changed.wait_for(lambda: len(self.state.requests) >= count, timeout)

    def _serve(self, port: int) -> LocalServer:
        server = LocalServer(IngestHandler, port)
        server.state = self.state  # type: ignore[attr-defined]
        return server.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client_addresses(self) -> list[tuple[str, int]]:
        return self._server.client_addresses

    def go_down(self) -> None:
        self._server.stop()

    def come_back(self) -> None:
        self._server = self._serve(port=self.port)

    def stop(self) -> None:
        self.release_requests()
        self._server.stop()

    def fail_next(self, status: int | None, times: int = 1, retry_after: str | None = None) -> None:
        with self.state.changed:
            self.state.script.extend(ScriptedFailure(status, retry_after) for _ in range(times))

    def sent_events(self) -> list[dict[str, Any]]:
        """Events stored so far, in arrival order."""
        with self.state.changed:
            return list(self.state.events.values())

    def wait_for_events(self, count: int, timeout: float = 10.0) -> bool:
        with self.state.changed:
            return self.state.changed.wait_for(lambda: len(self.state.events) >= count, timeout)

    def wait_for_budget_reads(self, count: int, timeout: float = 10.0) -> bool:
        with self.state.changed:
            return self.state.changed.wait_for(lambda: self.state.budget_reads >= count, timeout)


def usage_of(event: dict[str, Any]) -> dict[str, int]:
    """The token counts of an event as sent (1-hour cache writes only when there are some)."""
    counts = {name: event.get(name, 0) for name in TOKEN_FIELDS}
    if event.get("cache_write_1h_tokens"):
        counts["cache_write_1h_tokens"] = event["cache_write_1h_tokens"]
    return counts
