"""The events page: filters, cursor pages, CSV export and live arrival of new events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import reflex as rx
from sqlmodel import Session

from llmlab_app.errors import AppError
from llmlab_app.services import events, events_csv, projects
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.filters import date_range
from llmlab_app.ui.states.live import event_reads, read_shared
from llmlab_app.ui.states.live_page import heartbeat, watch_page
from llmlab_app.ui.states.service_call import call_in_session
from llmlab_app.ui.states.views import EventRow, event_rows
from llmlab_core.periods import day_instants

PAGE_SIZE = 50
# Beyond this the API's streaming CSV endpoint is the better tool.
CSV_EXPORT_LIMIT = 100_000
ALL = "all"


@dataclass(frozen=True)
class EventsView:
    """One page of the table, as every open page of the organisation with the same filters
    shows it (built once for all of them when a change wakes them)."""

    rows: list[EventRow]
    project_names: list[str]
    next_cursor: str


async def _read_events(
    actor: Actor, filters: events.EventFilters, cursor: str | None = None
) -> EventsView:
    def work(session: Session) -> EventsView:
        page = events.list_events(
            session, org_id=actor.org_id, filters=filters, limit=PAGE_SIZE, cursor=cursor
        )
        names = [p.name for p in projects.list_projects(session, org_id=actor.org_id)]
        return EventsView(event_rows(page.items, page.projects), names, page.next_cursor or "")

    return await call_in_session(work)


FirstPageRead = tuple[EventsView, int | None]


async def _read_first_page(
    actor: Actor, filters: events.EventFilters, shared: bool = True
) -> FirstPageRead:
    """Page 1 (the newest events) and the change count it includes at least, shared by the
    organisation's pages with the same filters (`read_shared`)."""
    return await read_shared(
        event_reads, actor.org_id, filters, lambda: _read_events(actor, filters), shared=shared
    )


class EventsState(rx.State):
    rows: list[EventRow] = []
    project_names: list[str] = []
    model: str = ""
    provider: str = ""
    project: str = ALL
    tag: str = ""
    start_date: str = ""
    end_date: str = ""
    start_error: str = ""
    end_error: str = ""
    page_number: int = 1
    has_next: bool = False
    loading: bool = True
    # Cursors of the pages before the current one (page 1 has none).
    _cursors: list[str] = []
    _next_cursor: str = ""
    # The change count of the organisation shown when page 1 was read (`ui/states/live.py`).
    _version: int | None = None

    def _filters(self) -> events.EventFilters:
        start, end, _ = date_range(self.start_date, self.end_date)
        start_at, end_at = day_instants(start, end)
        return events.EventFilters(
            start=start_at,
            end=end_at,
            project=None if self.project == ALL else self.project,
            model=self.model.strip() or None,
            provider=self.provider.strip() or None,
            tag=self.tag.strip() or None,
        )

    def _show(self, view: EventsView) -> None:
        if view.rows != self.rows:
            self.rows = view.rows
        if view.project_names != self.project_names:
            self.project_names = view.project_names
        self._next_cursor = view.next_cursor
        self.has_next = bool(view.next_cursor)
        self.loading = False

    def _show_first_page(self, read: FirstPageRead) -> None:
        view, self._version = read
        if self.page_number == 1:  # on an older page, new events wait for page 1
            self._show(view)

    async def _load_page(self, actor: Actor, cursor: str | None) -> None:
        if cursor is None:
            self._show_first_page(await _read_first_page(actor, self._filters()))
        else:
            self._show(await _read_events(actor, self._filters(), cursor))

    @rx.event
    async def load(self):
        """on_load: first page with the current filters."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self._cursors, self.page_number = [], 1
        await self._load_page(actor, None)
        return EventsState.watch

    @rx.event
    async def apply_filters(self, form_data: dict[str, Any]):
        start, end, errors = date_range(
            str(form_data.get("start_date", "")), str(form_data.get("end_date", ""))
        )
        self.start_error, self.end_error = errors.get("start", ""), errors.get("end", "")
        if errors:
            return None
        self.start_date = start.isoformat() if start else ""
        self.end_date = end.isoformat() if end else ""
        self.model = str(form_data.get("model", ""))
        self.provider = str(form_data.get("provider", ""))
        self.tag = str(form_data.get("tag", ""))
        self.project = str(form_data.get("project", ALL)) or ALL
        return EventsState.load

    @rx.event
    def clear_filters(self):
        self.model = self.provider = self.tag = self.start_date = self.end_date = ""
        self.project = ALL
        self.start_error = self.end_error = ""
        return EventsState.load

    @rx.event
    async def next_page(self):
        actor = await current_actor(self)
        if actor is None or not self._next_cursor:
            return
        self._cursors = [*self._cursors, self._next_cursor]
        self.page_number += 1
        await self._load_page(actor, self._cursors[-1])

    @rx.event
    async def previous_page(self):
        actor = await current_actor(self)
        if actor is None or not self._cursors:
            return
        self._cursors = self._cursors[:-1]
        self.page_number -= 1
        await self._load_page(actor, self._cursors[-1] if self._cursors else None)

    @rx.event
    def poll(self, _now: str = ""):
        """The page's heartbeat (`live_page.heartbeat`)."""
        return heartbeat(self, EventsState.watch)

    @rx.event(background=True)
    async def watch(self):
        """Show new events on page 1 as they arrive (`live_page.watch_page`)."""
        await watch_page(
            self,
            query=EventsState._filters,
            read=_read_first_page,
            show=EventsState._show_first_page,
        )

    @rx.event
    async def download_csv(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        filters = self._filters()

        def work(session: Session) -> str:
            chunks, size = [], 0
            for chunk in events_csv.export_events_csv(
                session, org_id=actor.org_id, filters=filters
            ):
                chunks.append(chunk)
                size += chunk.count("\n")
                if size > CSV_EXPORT_LIMIT:
                    break
            return "".join(chunks)

        try:
            text = await call_in_session(work)
        except AppError as error:
            return rx.toast.error(error.message)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return rx.download(data=text, filename=f"llmlab-events-{stamp}.csv")
