"""The budget guard against the ingest stub: status learnt in the background, checked locally."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

import llmlab_sdk
from llmlab_sdk.tracker import current_tracker

from .ingest_stub import IngestStub

Configure = Callable[..., llmlab_sdk.SDKConfig]


def a_budget(*, exceeded: bool, project: str | None = None, hard: bool = True) -> dict[str, Any]:
    return {
        "id": f"budget-{project}",
        "name": f"cap for {project or 'everything'}",
        "period": "monthly",
        "amount_usd": "10.00",
        "spent_usd": "12.50" if exceeded else "1.00",
        "exceeded": exceeded,
        "hard_limit": hard,
        "project": project,
    }


calls: list[str] = []


@llmlab_sdk.track_cost(model="gpt-4o-mini")
def call_llm(project_name: str = "default") -> dict[str, Any]:
    calls.append(project_name)
    return {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}


def guard_blocks(project: str | None) -> bool:
    try:
        current_tracker().budget_guard.check(project)
    except llmlab_sdk.BudgetExceededError:
        return True
    return False


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_the_background_check_learns_an_exceeded_budget_and_blocks_calls(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    ingest.state.budgets = [a_budget(exceeded=True)]
    configure_sdk(enforce_budget=True, budget_check_interval=3600)
    calls.clear()

    assert eventually(lambda: guard_blocks(None))
    with pytest.raises(llmlab_sdk.BudgetExceededError, match=re.escape("spent $12.50 of $10.00")):
        call_llm()

    assert calls == []  # the function never ran
    assert ingest.state.budget_reads == 1


def test_a_track_response_saying_exceeded_blocks_the_next_call(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    ingest.state.budgets = [a_budget(exceeded=False)]
    configure_sdk(enforce_budget=True, budget_check_interval=3600)
    call_llm()
    assert llmlab_sdk.flush(10)

    ingest.state.budgets = [a_budget(exceeded=True)]
    call_llm()  # allowed: the SDK has not heard yet
    assert llmlab_sdk.flush(10)

    with pytest.raises(llmlab_sdk.BudgetExceededError):
        call_llm()


def test_a_project_budget_does_not_block_other_projects(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    ingest.state.budgets = [a_budget(exceeded=True, project="search")]
    configure_sdk(enforce_budget=True, budget_check_interval=3600)
    assert eventually(lambda: guard_blocks("search"))

    with llmlab_sdk.call_context(project="chat"):
        call_llm("chat")
    with llmlab_sdk.call_context(project="search"), pytest.raises(llmlab_sdk.BudgetExceededError):
        call_llm("search")


def test_soft_budgets_and_the_guard_switched_off_never_block(
    ingest: IngestStub, configure_sdk: Configure
) -> None:
    ingest.state.budgets = [a_budget(exceeded=True, hard=False)]
    configure_sdk(enforce_budget=True, budget_check_interval=3600)
    assert ingest.wait_for_budget_reads(1)
    call_llm()

    ingest.state.budgets = [a_budget(exceeded=True)]
    configure_sdk(enforce_budget=False)
    call_llm()
    assert llmlab_sdk.flush(10)

    assert len(ingest.sent_events()) == 2
