"""Background work of a server process: today, delivering budget alert webhooks.

Each process runs one daemon thread. The work lives in the database (the outbox rows of
`webhook_deliveries`), so a restart loses nothing and several processes share it safely:
rows are claimed one at a time with a conditional UPDATE.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from llmlab_app.config import Settings
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


class BackgroundWorkers:
    """The background threads of one app instance."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.webhooks = WebhookWorker(engine, settings) if settings.webhook_worker_enabled else None

    def start(self) -> None:
        if self.webhooks is not None:
            self.webhooks.start()

    def stop(self, timeout: float | None = None) -> None:
        if self.webhooks is not None:
            self.webhooks.stop(timeout)
