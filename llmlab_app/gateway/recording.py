"""Recording each gateway call as a cost event, through the same ingest service as
`POST /api/events/track`, after the answer has gone to the client (never in its way)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import Engine

from llmlab_app.gateway.budget_guard import BudgetGuard
from llmlab_app.gateway.callers import Sender
from llmlab_app.gateway.spool import EventSpool
from llmlab_app.gateway.usage import ReadUsage
from llmlab_app.services.ingest import EventIn, ingest_events

logger = logging.getLogger("llmlab.gateway")

MAX_EVENT_ID_LENGTH = 128  # `EventIn.event_id`


@dataclass(frozen=True)
class Attribution:
    """What the `X-LLMLab-Project`, `-Tags` and `-User` headers said."""

    project: str | None = None
    tags: list[str] = field(default_factory=list)
    end_user: str | None = None


@dataclass
class GatewayCall:
    """One call as the gateway saw it, turned into an event when it ends."""

    provider: str
    path: str
    sender: Sender
    attribution: Attribution
    requested_model: str | None
    started_at: datetime
    started: float  # perf_counter

    def event(
        self,
        found: ReadUsage,
        *,
        http_status: int,
        ended: float,
        failed: bool = False,
        **extra: Any,
    ) -> EventIn:
        """The call's event: `<provider>:<response id>` as its id (a random one when the
        answer had none, so a replay from the spool still counts once); usage only from a
        successful answer, so a failed call costs nothing. `failed`: a stream the provider
        broke off, recorded as an error with the usage it had reported."""
        success = 200 <= http_status < 300
        tokens = (found.tokens or {}) if success else {}
        metadata: dict[str, Any] = {"endpoint": self.path, "http_status": http_status}
        if success and found.tokens is None:
            metadata["usage_reported"] = False
        metadata.update(extra)
        event_id = f"{self.provider}:{found.response_id}" if found.response_id else ""
        fields = {
            # The SDK's rule, so that a call both observe counts once; an id too long to
            # store is replaced, as the SDK does.
            "event_id": event_id if 0 < len(event_id) <= MAX_EVENT_ID_LENGTH else uuid.uuid4().hex,
            "provider": self.provider,
            "model": found.model or self.requested_model or "unknown",
            **tokens,
            "service_tier": found.service_tier,
            "timestamp": self.started_at,
            "project": self.attribution.project,
            "tags": self.attribution.tags,
            "end_user": self.attribution.end_user,
            "metadata": metadata,
            "latency_ms": max(0, round((ended - self.started) * 1000)),
            "status": "success" if success and not failed else "error",
        }
        try:
            return EventIn.model_validate(fields)
        except ValidationError:
            # e.g. an upstream naming its model in 300 characters: keep the call, not the name.
            return EventIn.model_validate(fields | {"model": "unknown"})


# Calls that end within this long of each other are written as one track request. The
# ingest writer's cost is mostly per round (measured on SQLite: ~400 us of CPU per event when
# each event is a round of its own, ~100 us in tens), and a gateway call alone wakes it for a
# round of one. The events wait this long, never the calls.
BATCH_SECONDS = 0.01
MAX_BATCH = 100


class CallRecorder:
    """Writes gateway events in the background, a few calls at a time; what cannot be
    written is spooled."""

    def __init__(self, engine: Engine, spool: EventSpool, budgets: BudgetGuard) -> None:
        self.engine = engine
        self.spool = spool
        self.budgets = budgets
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: dict[Sender, list[EventIn]] = {}
        self._flush: asyncio.TimerHandle | None = None

    def record(
        self,
        sender: Sender,
        event: EventIn | Callable[[], EventIn],
        *,
        close: httpx.Response | None = None,
    ) -> None:
        """Write `event` soon (and close the upstream answer `close` first). `event` may be
        a function that builds it, so that reading the answer happens after it was relayed.
        Callable from a cancelled task: it schedules, it never awaits."""
        self._start(self._add(sender, event, close))

    def close_later(self, answer: httpx.Response) -> None:
        """Close an upstream answer from a task of its own (see `record`)."""
        self._start(answer.aclose())

    def _start(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _add(
        self,
        sender: Sender,
        event: EventIn | Callable[[], EventIn],
        close: httpx.Response | None,
    ) -> None:
        if close is not None:
            try:
                await close.aclose()
            except Exception:
                logger.debug("gateway: closing an upstream answer failed", exc_info=True)
        if not isinstance(event, EventIn):
            event = event()
        batch = self._pending.setdefault(sender, [])
        batch.append(event)
        if len(batch) >= MAX_BATCH:
            self._start(self._write(sender, self._pending.pop(sender)))
        elif self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._write_all)

    def _write_all(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, {}
        for sender, events in pending.items():
            self._start(self._write(sender, events))

    async def _write(self, sender: Sender, events: list[EventIn]) -> None:
        try:
            answer = await ingest_events(
                self.engine,
                org_id=sender.org_id,
                api_key_id=sender.api_key_id,
                source="gateway",
                events=events,
            )
        except Exception as exc:
            logger.warning(
                "gateway: database unavailable (%s); %d event(s) spooled",
                type(exc).__name__,
                len(events),
            )
            for event in events:
                try:
                    await asyncio.to_thread(self.spool.write, sender, event)
                except OSError:
                    logger.exception("gateway: event %s lost: spool not writable", event.event_id)
            return
        for outcome in answer.events:
            if outcome.outcome == "rejected":
                logger.warning(
                    "gateway: event %s not recordable: %s", outcome.event_id, outcome.reason
                )
        self.budgets.learn(sender.org_id, answer.budgets)

    async def wait(self, timeout: float) -> None:
        """Write what is pending now and let the writes under way finish (shutdown)."""
        if self._flush is not None:
            self._flush.cancel()
            self._write_all()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
