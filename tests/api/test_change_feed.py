"""The change feed open dashboards watch: bumped after each commit that changes what an
organisation's pages show, for that organisation only, and heard by a waiting page."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from llmlab_app.errors import AppError
from llmlab_app.services import change_feed
from llmlab_app.services.permissions import Actor, Role
from llmlab_app.ui.states import live, live_page
from llmlab_app.ui.states.overview import OverviewState


def _version(org_id: str) -> int:
    return change_feed.change_feed().versions([uuid.UUID(org_id)])[0]


EVENT = {"provider": "openai", "model": "gpt-4o-mini", "input_tokens": 100, "event_id": "e-1"}


def test_a_tracked_event_bumps_its_organisation_only(account: Any, other_account: Any) -> None:
    mine, theirs = _version(account.org_id), _version(other_account.org_id)

    account.track(EVENT)

    assert _version(account.org_id) == mine + 1
    assert _version(other_account.org_id) == theirs


def test_a_repeated_event_changes_nothing_and_bumps_nothing(account: Any) -> None:
    account.track(EVENT)
    before = _version(account.org_id)

    account.track(EVENT)

    assert _version(account.org_id) == before


def test_budget_changes_bump_the_organisation(account: Any) -> None:
    before = _version(account.org_id)
    created = account.client.post(
        "/api/budgets",
        json={"name": "Monthly", "amount_usd": "5", "period": "monthly"},
        headers=account.token_headers,
    )
    assert created.status_code == 201, created.text
    assert _version(account.org_id) == before + 1
    budget_id = created.json()["data"]["id"]
    deleted = account.client.delete(f"/api/budgets/{budget_id}", headers=account.token_headers)
    assert deleted.status_code == 200, deleted.text
    assert _version(account.org_id) == before + 2


FEEDS = ["memory"] + (["redis"] if os.environ.get("LLMLAB_TEST_REDIS_URL") else [])


@pytest.mark.parametrize("kind", FEEDS)
def test_each_feed_counts_per_organisation(kind: str) -> None:
    feed: change_feed.ChangeFeed = (
        change_feed.MemoryChangeFeed()
        if kind == "memory"
        else change_feed.RedisChangeFeed(os.environ["LLMLAB_TEST_REDIS_URL"])
    )
    one, two = uuid.uuid4(), uuid.uuid4()
    assert feed.versions([one, two]) == [0, 0]
    feed.bump([one])
    feed.bump([one, two])
    assert feed.versions([one, two]) == [2, 1]
    assert feed.versions([]) == []


def test_a_waiting_page_wakes_when_its_organisation_moves(monkeypatch: Any) -> None:
    monkeypatch.setattr(live, "WATCH_TICK_S", 0.01)
    changes = live.OrgChanges()
    watched, other = uuid.uuid4(), uuid.uuid4()

    async def scenario() -> tuple[bool, bool]:
        version = await changes.version(watched)
        waiting = asyncio.create_task(changes.wait_past(watched, version, timeout=5))
        await asyncio.sleep(0.05)
        change_feed.record_change(other)
        await asyncio.sleep(0.05)
        assert not waiting.done()  # another organisation's change does not wake it
        change_feed.record_change(watched)
        woke = await waiting
        quiet = await changes.wait_past(watched, version + 1, timeout=0.1)
        return woke, quiet

    woke, quiet = asyncio.run(scenario())
    assert woke and not quiet


class _Tab:
    """What `watch_page` needs of a page's state: a lock, a client token, its vars."""

    def __init__(self, version: int) -> None:
        self.router = SimpleNamespace(session=SimpleNamespace(client_token=uuid.uuid4().hex))
        self._version: int | None = version
        self.form_error, self.loading = "", True

    async def __aenter__(self) -> _Tab:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def test_a_refused_page_read_waits_for_the_heartbeat_instead_of_looping(monkeypatch: Any) -> None:
    """A watch whose read is refused must not read again at once (the count it waits past has
    already moved): it tries again on the heartbeat's schedule."""
    monkeypatch.setattr(live, "WATCH_TICK_S", 0.01)
    monkeypatch.setattr(live, "HEARTBEAT_S", 0.2)  # the watch ends 0.5 s after its start
    monkeypatch.setattr(live_page, "HEARTBEAT_S", 0.2)
    actor = Actor(user_id=uuid.uuid4(), org_id=uuid.uuid4(), role=Role.OWNER)

    async def signed_in(state: Any) -> Actor:
        return actor

    monkeypatch.setattr(live_page, "current_actor", signed_in)
    reads: list[float] = []

    async def refused(who: Actor, query: Any, shared: bool) -> Any:
        reads.append(time.monotonic())
        return AppError("no such organisation"), None

    async def scenario() -> None:
        tab = _Tab(version=await live.org_changes.version(actor.org_id))
        watching = asyncio.create_task(
            live_page.watch_page(
                tab, query=lambda state: (), read=refused, show=OverviewState._apply
            )
        )
        await asyncio.sleep(0.05)
        change_feed.record_change(actor.org_id)
        await asyncio.wait_for(watching, 2)
        assert tab.form_error == "no such organisation"

    asyncio.run(scenario())
    assert 1 <= len(reads) <= 4, len(reads)  # one per heartbeat, not one per loop
