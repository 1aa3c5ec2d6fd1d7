"""Run a service function with its own session, off the event loop (services are sync)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session

from llmlab_app.db.engine import get_session

T = TypeVar("T")


async def call_service(function: Callable[..., T], /, **kwargs: Any) -> T:
    """`function(session, **kwargs)` in a worker thread, so a slow query or a password hash
    does not stall every other tab's websocket events."""

    def run() -> T:
        with get_session() as session:
            return function(session, **kwargs)

    return await asyncio.to_thread(run)


async def call_in_session(work: Callable[[Session], T]) -> T:
    """Several service calls that belong together, in one session and one thread."""

    def run() -> T:
        with get_session() as session:
            return work(session)

    return await asyncio.to_thread(run)
