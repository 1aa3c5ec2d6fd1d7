"""Gateway events that could not be written (database down), kept on disk until it is back.

One file per event (its organisation, key and the event as JSON), written aside, fsynced and renamed
into place. Every gateway event has an `event_id`, so writing a file twice (two workers
draining the same directory, a crash between commit and removal) stores it once.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
import uuid
from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from llmlab_app.config import Settings
from llmlab_app.gateway.callers import Sender
from llmlab_app.services.ingest import EventIn, ingest_events_blocking

logger = logging.getLogger("llmlab.gateway")


# Events written per transaction when draining (the track route's batch limit).
DRAIN_BATCH = 1_000


def spool_directory(settings: Settings) -> Path:
    return settings.data_dir / "gateway-spool"


class EventSpool:
    """A directory of events waiting for the database, shared by the workers of a server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sequence = itertools.count()

    def write(self, sender: Sender, event: EventIn) -> Path:
        """Keep one event durably; returns its file."""
        assert event.event_id, "spooled events need an event_id to be written exactly once"
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):06d}"
        final = self.directory / f"{name}.json"
        partial = self.directory / f".{name}.tmp"
        record = {
            "org_id": str(sender.org_id),
            "api_key_id": str(sender.api_key_id),
            "event": event.model_dump(mode="json"),
        }
        with partial.open("w") as file:
            json.dump(record, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, final)
        return final

    def pending(self, limit: int = DRAIN_BATCH) -> list[Path]:
        """Spooled event files, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))[:limit]

    def drain(self, engine: Engine) -> int:
        """Write spooled events through the ingest service (priced, rolled up, budgets
        evaluated) and remove their files; the number of events written. A database error
        propagates and leaves the files for the next try."""
        written = 0
        while paths := self.pending():
            by_sender: dict[Sender, list[tuple[Path, EventIn]]] = defaultdict(list)
            for path in paths:
                if (loaded := self._load(path)) is not None:
                    by_sender[loaded[0]].append((path, loaded[1]))
            for sender, items in by_sender.items():
                events = [event for _, event in items]
                try:
                    answer = ingest_events_blocking(
                        engine,
                        org_id=sender.org_id,
                        api_key_id=sender.api_key_id,
                        source="gateway",
                        events=events,
                    )
                except IntegrityError as exc:
                    # Never writable (the organisation is gone): set aside rather than block
                    # the events behind them.
                    logger.error(
                        "gateway: spooled events of organisation %s set aside (%s)",
                        sender.org_id,
                        exc,
                    )
                    for path, _ in items:
                        path.replace(path.with_suffix(".bad"))
                    continue
                for (path, _), outcome in zip(items, answer.events, strict=True):
                    if outcome.outcome == "rejected":  # the counts contradict each other
                        logger.error(
                            "gateway: spooled event %s set aside (%s)", path, outcome.reason
                        )
                        path.replace(path.with_suffix(".bad"))
                    else:
                        path.unlink(missing_ok=True)
                written += len(items)
        return written

    def _load(self, path: Path) -> tuple[Sender, EventIn] | None:
        try:
            record = json.loads(path.read_text())
            sender = Sender(uuid.UUID(record["org_id"]), uuid.UUID(record["api_key_id"]))
            return sender, EventIn.model_validate(record["event"])
        except FileNotFoundError:
            return None  # another worker wrote it meanwhile
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error("gateway: unreadable spool file %s set aside (%s)", path, exc)
            path.replace(path.with_suffix(".bad"))
            return None
