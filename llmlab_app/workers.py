"""Background work of a server process: delivering budget alert webhooks, deleting raw
events past the retention window (`LLMLAB_RETENTION_DAYS`), and writing the gateway's spooled
events once the database is back.

Each process runs one daemon thread per kind of work. The work lives in the database (the
outbox rows of `webhook_deliveries`; the events themselves) or in the gateway's spool files,
so a restart loses nothing and several processes share it safely: webhook rows are claimed
one at a time with a conditional UPDATE, deleting an event twice deletes it once, and a
spooled event written twice is stored once (its event id).
"""

from __future__ import annotations

import logging
import threading

import httpx
from sqlalchemy import Engine

from llmlab_app.config import Settings
from llmlab_app.gateway.spool import EventSpool, spool_directory
from llmlab_app.services.retention import delete_expired_events
from llmlab_app.services.webhooks import deliver_due_webhooks, new_http_client

logger = logging.getLogger("llmlab.workers")

# Expired events are looked for at start and then hourly: the window is counted in days.
RETENTION_INTERVAL_SECONDS = 3600.0
# Between two delete batches, so that ingest gets the database (SQLite's one writer) too.
RETENTION_BATCH_PAUSE_SECONDS = 0.05
# How often the gateway's spool is looked at (a directory listing when it is empty).
SPOOL_POLL_SECONDS = 2.0


class PeriodicWorker:
    """A daemon thread that runs `run_once` every `interval_seconds` until stopped."""

    name = "llmlab-worker"

    def __init__(self, engine: Engine, settings: Settings, interval_seconds: float) -> None:
        self.engine = engine
        self.settings = settings
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to finish and wait for it up to `timeout` seconds."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:
                # The database may be briefly unavailable: log it and try on the next tick.
                logger.exception("%s pass failed", self.name)
            self._stopping.wait(self.interval_seconds)


class WebhookWorker(PeriodicWorker):
    """Every `webhook_poll_seconds`, send the webhook deliveries that are due."""

    name = "llmlab-webhooks"

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings, settings.webhook_poll_seconds)
        self._client: httpx.Client | None = None

    def stop(self, timeout: float | None = None) -> None:
        """A POST still in flight keeps its row claimed only until the lease runs out;
        another worker retries it then."""
        super().stop(timeout if timeout is not None else self.settings.webhook_timeout_seconds + 1)

    def _run(self) -> None:
        # One keep-alive client for the thread's whole life.
        with new_http_client(self.settings) as self._client:
            super()._run()

    def run_once(self) -> None:
        deliver_due_webhooks(
            self.engine, self.settings, client=self._client, should_stop=self._stopping.is_set
        )


class RetentionWorker(PeriodicWorker):
    """At start and then hourly, delete the raw events older than `retention_days`."""

    name = "llmlab-retention"

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings, RETENTION_INTERVAL_SECONDS)

    def stop(self, timeout: float | None = None) -> None:
        """Stops between two batches: each batch is its own transaction."""
        super().stop(timeout if timeout is not None else 5.0)

    def run_once(self) -> None:
        assert self.settings.retention_days is not None
        deleted = delete_expired_events(
            self.engine,
            retention_days=self.settings.retention_days,
            pause=lambda: self._stopping.wait(RETENTION_BATCH_PAUSE_SECONDS),
        )
        if deleted:
            logger.info(
                "retention: deleted %d events older than %d days",
                deleted,
                self.settings.retention_days,
            )


class SpoolWorker(PeriodicWorker):
    """Every `SPOOL_POLL_SECONDS`, write what the gateway spooled while the database was down."""

    name = "llmlab-spool"

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings, SPOOL_POLL_SECONDS)
        self.spool = EventSpool(spool_directory(settings))

    def stop(self, timeout: float | None = None) -> None:
        super().stop(timeout if timeout is not None else SPOOL_POLL_SECONDS + 5)

    def run_once(self) -> None:
        try:
            written = self.spool.drain(self.engine)
        except Exception as exc:
            # Expected while the database is down: one line per pass, not a traceback.
            logger.warning("gateway spool not written yet (%s)", type(exc).__name__)
            return
        if written:
            logger.info("gateway: %d spooled events written", written)


class BackgroundWorkers:
    """The background threads of one app instance."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.webhooks = WebhookWorker(engine, settings) if settings.webhook_worker_enabled else None
        self.retention = (
            RetentionWorker(engine, settings) if settings.retention_days is not None else None
        )
        self.spool = SpoolWorker(engine, settings)

    def _all(self) -> list[PeriodicWorker]:
        workers = (self.webhooks, self.retention, self.spool)
        return [worker for worker in workers if worker is not None]

    def start(self) -> None:
        for worker in self._all():
            worker.start()

    def stop(self, timeout: float | None = None) -> None:
        for worker in self._all():
            worker.stop(timeout)
