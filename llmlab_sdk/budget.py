"""The budget guard: the last known status of hard-limit budgets, checked before guarded calls.

The status is refreshed only by the background sender (from track responses and a periodic
``GET /api/budgets``); checking it on the caller's thread is a tuple scan, never a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llmlab_sdk.errors import BudgetExceededError


def _project_of(budget: Mapping[str, Any]) -> str | None:
    """The project a budget is scoped to (by name), or None when it covers every project."""
    project = budget.get("project")
    if isinstance(project, Mapping):
        project = project.get("name")
    return project if isinstance(project, str) else budget.get("project_name")


class BudgetGuard:
    """Knows which hard-limit budgets are exceeded and refuses calls that they cover."""

    def __init__(self) -> None:
        self._budgets: dict[str, Mapping[str, Any]] = {}
        self._exceeded: tuple[Mapping[str, Any], ...] = ()

    def replace_all(self, budgets: Iterable[Mapping[str, Any]]) -> None:
        """Take a full listing (``GET /api/budgets``): budgets not in it are gone."""
        self._budgets = {str(b.get("id", b.get("name"))): b for b in budgets}
        self._refresh()

    def update(self, budgets: Iterable[Mapping[str, Any]]) -> bool:
        """Take the statuses a track response reported (only the budgets it touched).

        Those briefs do not say which project a budget covers, so what a full listing said is
        kept; returns True when a budget was new, so its scope should be fetched. Until then an
        unknown budget is taken to cover every project (the safe side of a hard limit).
        """
        merged = dict(self._budgets)
        unknown = False
        for budget in budgets:
            key = str(budget.get("id", budget.get("name")))
            known = merged.get(key)
            unknown = unknown or known is None
            merged[key] = {**known, **budget} if known is not None else budget
        self._budgets = merged
        self._refresh()
        return unknown

    def _refresh(self) -> None:
        # Rebuilt as an immutable tuple and swapped in one assignment, so readers on other
        # threads never see a half-updated state and need no lock.
        self._exceeded = tuple(
            b for b in self._budgets.values() if b.get("hard_limit") and b.get("exceeded")
        )

    def check(self, project: str | None) -> None:
        """Raise :class:`BudgetExceededError` if an exceeded hard budget covers ``project``."""
        for budget in self._exceeded:
            scope = _project_of(budget)
            if scope is None or scope == project:
                raise BudgetExceededError(
                    str(budget.get("name", budget.get("id"))),
                    str(budget.get("spent_usd")),
                    str(budget.get("amount_usd")),
                )
