"""Run a service function with its own session, off the event loop (services are sync).

The dashboard reaches the database the way the API does: through the process app's
`app.state.engine` (set once by `create_app`), with `db.engine.get_session`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from llmlab_app.db.engine import get_session

T = TypeVar("T")


def app_engine() -> Engine:
    """The engine of the process's app, the one the API's routes use."""
    # Imported here: importing a state must not build the app (settings, engine, gateway).
    from llmlab_app.api import app

    return app.state.engine


async def call_service(function: Callable[..., T], /, **kwargs: Any) -> T:
    """`function(session, **kwargs)` in a worker thread, so a slow query or a password hash
    does not stall every other tab's websocket events."""
    return await call_in_session(lambda session: function(session, **kwargs))


async def call_in_session(work: Callable[[Session], T]) -> T:
    """Several service calls that belong together, in one session and one thread."""

    def run() -> T:
        with get_session(app_engine()) as session:
            return work(session)

    return await asyncio.to_thread(run)
