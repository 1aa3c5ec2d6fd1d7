"""A page kept current by its organisation's change count (`ui/states/live.py`): its watch and
its heartbeat, written once for every live page (the overview and the events page).

A live page's state has a `_version` backend var (the change count its data was read at),
a `loading` var, and gives `watch_page` three things: its query (the filters the watch reads
with), a read of that query outside the tab's lock (shared by the organisation's open pages,
see `SharedReads`), and how to show the read (under the lock, setting `_version`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import reflex as rx

from llmlab_app.services.permissions import Actor
from llmlab_app.ui.states.auth import current_actor
from llmlab_app.ui.states.live import HEARTBEAT_S, REREAD_S, org_changes, watches

R = TypeVar("R")
Q = TypeVar("Q", bound=Hashable)


def heartbeat(state: rx.State, watch: Any) -> Any:
    """The page's heartbeat (every `HEARTBEAT_S`): keeps this tab's watch alive in the worker
    holding its websocket, and starts one (`watch`) after a reconnect or a restart."""
    if state.loading or watches.beat(state.router.session.client_token):  # type: ignore[attr-defined]
        return None
    return watch


async def watch_page(
    state: Any,
    *,
    query: Callable[[Any], Q],
    read: Callable[[Actor, Q, bool], Awaitable[R]],
    show: Callable[[Any, R], None],
) -> None:
    """Run in a page's background `watch` event: redraw when the organisation's data
    changes, for as long as the page's heartbeat says it is open. A newer watch of the same
    tab replaces this one (a load, new filters or another organisation start one).

    The read happens outside the tab's lock (the tab's other events need not wait for it, and
    the organisation's pages share it); then the lock is taken once to check who is signed in
    and show the read."""
    token = state.router.session.client_token
    watch_id = watches.start(token)
    reread_at = time.monotonic() + REREAD_S
    async with state:
        actor = await current_actor(state)
        asked, version = query(state), state._version
    try:
        while actor is not None and watches.is_current(token, watch_id):
            moved = await org_changes.wait_past(actor.org_id, version, HEARTBEAT_S)
            due = version is None or time.monotonic() >= reread_at
            if not (moved or due) or not watches.is_current(token, watch_id):
                continue
            found = await read(actor, asked, moved)
            async with state:
                if not watches.is_current(token, watch_id):
                    return
                now = await current_actor(state)
                if now is None:  # signed out meanwhile: the next page event redirects
                    return
                if now.org_id != actor.org_id:  # no longer a member: show where they act
                    actor, version = now, None
                    continue
                show(state, found)
                version = state._version
            if not moved:
                reread_at = time.monotonic() + REREAD_S
    finally:
        watches.stop(token, watch_id)
