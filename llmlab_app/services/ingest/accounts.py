"""What the ingest writer keeps per organisation between its rounds, and the one rule that
keeps it correct.

The rule: any change to an organisation's budgets or price overrides moves its
`settings_version` in the same transaction. It is not left to each service to remember: the
mapper events below fire on every ORM insert, update and delete of those rows, whoever makes
them, and bulk UPDATE/DELETE statements on them through a `Session` (which would skip the
mapper events) are refused. `tests/api/test_tracking_settings.py` changes each kind of row
straight through the ORM, with no service in between, and sees the version move.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy import select as sa_select
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

from llmlab_app.db.models import Budget, PriceOverride, Project
from llmlab_app.services.budgets import list_budgets
from llmlab_app.services.prices import overrides_for
from llmlab_app.services.projects import ensure_projects
from llmlab_app.services.settings_version import BUMP, settings_version
from llmlab_core import PriceOverride as Override

# The rows whose changes the writer's cache must see.
TRACKING_SETTINGS: tuple[type, ...] = (Budget, PriceOverride)


def _settings_changed(_mapper: Any, connection: Any, target: Any) -> None:
    connection.execute(BUMP, {"org_id": target.org_id})


for _model in TRACKING_SETTINGS:
    for _change in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _change, _settings_changed)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ in TRACKING_SETTINGS for mapper in state.all_mappers
    ):
        raise RuntimeError(
            "change budgets and price overrides row by row through the ORM: a bulk statement "
            "would not move the organisation's settings_version"
        )


@dataclass(frozen=True)
class Account:
    settings_version: int | None
    overrides: list[Override]
    budgets: list[Budget]  # detached: read-only snapshots


# Bounds on what the writer keeps (emptied when reached: it is only a cache).
MAX_CACHED_ACCOUNTS = 10_000
MAX_CACHED_PROJECTS = 100_000


class AccountCache:
    """Per organisation: price overrides and budgets, reused while its `settings_version` is
    unchanged (the version is read in the writer's transaction before them, so what is kept
    is never older than the version it is kept under), and project ids (projects are created,
    never renamed or deleted, so a name found once is found for good). One small read per
    organisation per round instead of three. Only the writer's thread uses it."""

    def __init__(self) -> None:
        self._accounts: dict[uuid.UUID, Account] = {}
        self._projects: dict[tuple[uuid.UUID, str], uuid.UUID] = {}

    def account(self, session: Session, *, org_id: uuid.UUID) -> Account:
        version = settings_version(session, org_id=org_id)
        account = self._accounts.get(org_id)
        if account is None or account.settings_version != version:
            budgets = list_budgets(session, org_id=org_id)
            for budget in budgets:
                session.expunge(budget)
            account = Account(version, overrides_for(session, org_id=org_id), budgets)
            if len(self._accounts) >= MAX_CACHED_ACCOUNTS:
                self._accounts.clear()
            self._accounts[org_id] = account
        return account

    def project_ids(
        self, session: Session, *, org_id: uuid.UUID, names: set[str]
    ) -> dict[str, uuid.UUID]:
        """Ids of the named projects; missing ones are created (and committed)."""
        found = {
            name: self._projects[org_id, name] for name in names if (org_id, name) in self._projects
        }
        if missing := names - found.keys():
            created = _project_ids(session, org_id=org_id, names=missing)
            if len(self._projects) >= MAX_CACHED_PROJECTS:
                self._projects.clear()
            self._projects.update(((org_id, name), id_) for name, id_ in created.items())
            found |= created
        return found


_PROJECTS = Project.__table__.c  # type: ignore[attr-defined]
_PROJECT_IDS = sa_select(_PROJECTS.name, _PROJECTS.id).where(
    _PROJECTS.org_id == bindparam("org_id"),
    _PROJECTS.name.in_(bindparam("names", expanding=True)),
)


def _project_ids(session: Session, *, org_id: uuid.UUID, names: set[str]) -> dict[str, uuid.UUID]:
    found = dict(session.execute(_PROJECT_IDS, {"org_id": org_id, "names": sorted(names)}).all())
    if missing := names - found.keys():
        found |= ensure_projects(session, org_id=org_id, names=missing)
        session.commit()
    return found
