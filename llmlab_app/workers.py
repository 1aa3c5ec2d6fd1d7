"""Background work of a server process: delivering budget alert webhooks, and writing the
gateway's spooled events once the database is back.

Each process runs one daemon thread per job. Webhook work lives in the database (the outbox
rows of `webhook_deliveries`), so a restart loses nothing and several processes share it
safely: rows are claimed one at a time with a conditional UPDATE. Spooled events live in
files under the data directory; their event ids make a second write of one harmless.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from llmlab_app.config import Settings
from llmlab_app.gateway.spool import EventSpool, spool_directory
from llmlab_app.services.webhooks import deliver_due_webhooks, new_http_client

logger = logging.getLogger("llmlab.workers")


class WebhookWorker:
    """Every `webhook_poll_seconds`, send the webhook deliveries that are due."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="llmlab-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to finish and wait for it a little. A POST still in flight keeps
        its row claimed only until the lease runs out; another worker retries it then."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(
                timeout if timeout is not None else self.settings.webhook_timeout_seconds + 1
            )

    def _run(self) -> None:
        with new_http_client(self.settings) as client:
            while not self._stopping.is_set():
                try:
                    deliver_due_webhooks(
                        self.engine,
                        self.settings,
                        client=client,
                        should_stop=self._stopping.is_set,
                    )
                except Exception:
                    # The database may be briefly unavailable: log it and try on the next tick.
                    logger.exception("webhook delivery pass failed")
                self._stopping.wait(self.settings.webhook_poll_seconds)


# How often the gateway's spool is looked at (a directory listing when it is empty).
SPOOL_POLL_SECONDS = 2.0


class SpoolWorker:
    """Every `SPOOL_POLL_SECONDS`, write what the gateway spooled while the database was down."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.spool = EventSpool(spool_directory(settings))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="llmlab-spool", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else SPOOL_POLL_SECONDS + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if written := self.spool.drain(self.engine):
                    logger.info("gateway: %d spooled events written", written)
            except Exception as exc:
                logger.warning("gateway spool not written yet (%s)", type(exc).__name__)
            self._stopping.wait(SPOOL_POLL_SECONDS)


class BackgroundWorkers:
    """The background threads of one app instance."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.webhooks = WebhookWorker(engine, settings) if settings.webhook_worker_enabled else None
        self.spool = SpoolWorker(engine, settings)

    def start(self) -> None:
        if self.webhooks is not None:
            self.webhooks.start()
        self.spool.start()

    def stop(self, timeout: float | None = None) -> None:
        if self.webhooks is not None:
            self.webhooks.stop(timeout)
        self.spool.stop(timeout)
