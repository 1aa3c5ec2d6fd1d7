"""The Audit page: who did what in the organisation and when, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from llmlab_app.db.models import AuditEvent
from llmlab_app.errors import Forbidden
from llmlab_app.services import audit
from llmlab_app.services.permissions import Actor, Permission, refusal_reasons
from llmlab_app.ui.format import format_timestamp
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.service_call import call_in_session

PAGE_SIZE = 25
# How an action reads in the log ("ada@… created the key ci"); an action missing here is
# shown as recorded.
ACTION_LABELS = {
    "organisation.created": "created the organisation",
    "organisation.renamed": "renamed the organisation to",
    "member.invited": "invited",
    "member.joined": "joined",
    "member.left": "left",
    "member.removed": "removed",
    "member.role_changed": "changed the role of",
    "invitation.revoked": "revoked the invitation of",
    "key.created": "created the API key",
    "key.revoked": "revoked the API key",
    "budget.created": "created the budget",
    "budget.updated": "changed the budget",
    "budget.deleted": "deleted the budget",
    "price.created": "added a price for",
    "price.deleted": "deleted a price of",
    "prices.repriced": "re-priced the events of",
    "webhook_secret.rotated": "rotated the webhook signing secret",
}


@dataclass
class AuditRow:
    when: str = ""
    who: str = ""
    action: str = ""
    target: str = ""
    details: str = ""


def _detail_value(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        return f"{_detail_value(value['from'])} → {_detail_value(value['to'])}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return "none" if value is None else str(value)


def audit_details(details: dict[str, Any]) -> str:
    """An entry's details for a reader: a change as `old → new`, then `name: value` pairs,
    leaving out ids and zero counts (they tell a reader nothing)."""
    parts = []
    if {"from", "to"} <= set(details):
        parts.append(_detail_value({"from": details["from"], "to": details["to"]}))
    parts += [
        f"{name.replace('_', ' ')}: {_detail_value(value)}"
        for name, value in details.items()
        if name not in ("from", "to") and not name.endswith("_id") and value != 0
    ]
    return " · ".join(parts)


def audit_row(entry: AuditEvent) -> AuditRow:
    who = entry.actor_email or "a deleted account"
    return AuditRow(
        when=format_timestamp(entry.created_at),
        who=who,
        action=ACTION_LABELS.get(entry.action, entry.action),
        # Joining and leaving name their actor twice: once is enough.
        target="" if entry.target == who else entry.target or "",
        details=audit_details(entry.details or {}),
    )


class AuditState(rx.State):
    rows: list[AuditRow] = []
    loading: bool = True
    # Why the log is not shown ("" when it is): the permission table's reason.
    refused: str = ""
    page_number: int = 1
    has_next: bool = False
    # The cursor each page was read with (the first page: ""), for going back.
    _cursors: list[str] = []
    _next_cursor: str = ""

    async def _load_page(self, actor: Actor, cursor: str) -> None:
        try:
            page = await call_in_session(
                lambda session: audit.list_audit(
                    session, actor=actor, limit=PAGE_SIZE, cursor=cursor or None
                )
            )
        except Forbidden:
            self.rows, self.has_next, self.loading = [], False, False
            self.refused = refusal_reasons(actor)[Permission.READ_AUDIT.value] + "."
            return
        self.refused = ""
        self.rows = [audit_row(entry) for entry in page.items]
        self._next_cursor = page.next_cursor or ""
        self.has_next = page.next_cursor is not None
        self.loading = False

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self._cursors, self.page_number = [""], 1
        await self._load_page(actor, "")
        return None

    @rx.event
    async def next_page(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        if not self._next_cursor:
            return None
        self._cursors = [*self._cursors, self._next_cursor]
        self.page_number = len(self._cursors)
        await self._load_page(actor, self._next_cursor)
        return None

    @rx.event
    async def previous_page(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        if len(self._cursors) > 1:
            self._cursors = self._cursors[:-1]
        self.page_number = len(self._cursors)
        await self._load_page(actor, self._cursors[-1])
        return None
