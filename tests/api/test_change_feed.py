"""The change feed open dashboards watch: bumped after each commit that changes what an
organisation's pages show, for that organisation only, and heard by a waiting page."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from llmlab_app.services import change_feed
from llmlab_app.ui.states import live


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
