"""The what-if panel: real usage re-priced as if a share of one model's calls went to another.

Its default range is the recommendations' window (the last 30 days, today included), so a
switch_model card's "save $X/mo" is the panel's savings for the same model, target and share.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from sqlmodel import Session

from llmlab_app.errors import AppError, InvalidInput
from llmlab_app.services import savings, spend
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.figures import WhatIfPoint, whatif_figure
from llmlab_app.ui.format import format_count, format_day, format_range, format_usd
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.filters import date_range
from llmlab_app.ui.states.overview import ALL, OverviewState
from llmlab_app.ui.states.service_call import call_in_session
from llmlab_app.ui.states.views import percent_text
from llmlab_core import SUBSTITUTIONS, WhatIfResult
from llmlab_core.periods import last_days
from llmlab_core.recommendations import DAYS_PER_MONTH

WINDOW_DAYS = savings.RECOMMENDATION_WINDOW_DAYS


def default_range(today: date) -> tuple[date, date]:
    """The recommendations' window: the last 30 days, today included."""
    return last_days(WINDOW_DAYS, today=today)


def parse_share_percent(text: str) -> Decimal:
    """`80`, `80%` or `12.5` -> Decimal('0.8') ...; ValueError with the message."""
    cleaned = text.strip().removesuffix("%").strip()
    if not cleaned:
        raise ValueError("Enter a share from 0 to 100 (%).")
    try:
        percent = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a number from 0 to 100, like 80.") from None
    if not percent.is_finite() or not 0 <= percent <= 100:
        raise ValueError("Enter a share from 0 to 100 (%).")
    return percent / 100


@dataclass
class WhatIfForm:
    """A validated panel form, as keyword arguments of `savings.what_if` (dates unresolved)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def validate_whatif_form(form_data: dict[str, Any]) -> WhatIfForm:
    form = WhatIfForm()
    for name, message in (
        ("from_model", "Enter the model your calls went to."),
        ("to_model", "Enter the model to compare it with."),
    ):
        text = str(form_data.get(name, "")).strip()
        if not text:
            form.errors[name] = message
        form.values[name] = text
    try:
        form.values["share"] = parse_share_percent(str(form_data.get("share", "")))
    except ValueError as error:
        form.errors["share"] = str(error)
    start, end, errors = date_range(str(form_data.get("start", "")), str(form_data.get("end", "")))
    form.errors.update(errors)
    form.values["start"], form.values["end"] = start, end
    project = str(form_data.get("project", ALL)) or ALL
    form.values["project"] = None if project == ALL else project
    return form


def error_field(error: AppError) -> str:
    """Which field a service error belongs next to: the service names the share, the target
    model (no price known) or the range in its message."""
    message = error.message.lower()
    if isinstance(error, InvalidInput):
        if message.startswith("share"):
            return "share"
        if "unknown model" in message or "unknown provider" in message:
            return "to_model"
        if "end" in message or "range" in message:
            return "end"
    return "form"


def error_message(error: AppError) -> str:
    """The service's message as a sentence; an unknown target also says why it matters."""
    text = error.message[:1].upper() + error.message[1:]
    if error_field(error) == "to_model":
        text = text.removesuffix(".") + ": no price is known for it"
    return text if text.endswith(".") else text + "."


@dataclass
class WhatIfView:
    """The panel's numbers, formatted like the rest of the dashboard."""

    old_cost: str = ""
    new_cost: str = ""
    savings_label: str = "Savings"
    savings: str = ""
    savings_detail: str = ""
    range_label: str = ""
    moved_detail: str = ""
    note: str = ""


def monthly_savings(result: WhatIfResult, start: date, end: date) -> Decimal:
    """Savings scaled to 30 days, as a recommendation states them."""
    days = (end - start).days + 1
    return result.savings_usd * DAYS_PER_MONTH / days


def whatif_view(result: WhatIfResult, start: date, end: date) -> WhatIfView:
    saved = result.savings_usd
    percent = (
        f"{saved / result.old_cost_usd * 100:.0f}% of the range's spend · "
        if result.old_cost_usd
        else ""
    )
    per_month = monthly_savings(result, start, end)
    note = ""
    if result.calls_moved == 0 and saved == 0 and result.share > 0:
        note = (
            f"No priced calls to {result.from_model} in this range (and project): nothing "
            "to move. Pick a model from the list of models you use."
        )
    return WhatIfView(
        old_cost=format_usd(result.old_cost_usd),
        new_cost=format_usd(result.new_cost_usd),
        savings_label="Savings" if saved >= 0 else "Extra cost",
        savings=format_usd(abs(saved)),
        savings_detail=(
            f"{percent}about {format_usd(abs(per_month))}/mo at this rate"
            if saved >= 0
            else f"{result.to_model} costs more for these calls"
        ),
        range_label=format_range(format_day(start), format_day(end)),
        moved_detail=(
            f"{format_count(result.calls_moved)} calls ({percent_text(result.share)}% of "
            f"{result.from_model}) "
            f"billed at {result.to_provider}/{result.to_model} prices"
        ),
        note=note,
    )


def whatif_points(result: WhatIfResult) -> list[WhatIfPoint]:
    return [
        WhatIfPoint(day.day.isoformat(), float(day.old), float(day.new)) for day in result.by_day
    ]


def run_whatif(
    session: Session,
    *,
    org_id: uuid.UUID,
    from_model: str,
    to_model: str,
    share: Decimal,
    start: date | None,
    end: date | None,
    project: str | None,
) -> tuple[WhatIfResult, date, date]:
    """The service call, with the range resolved the way POST /api/whatif resolves it."""
    start, end = spend.resolve_range(start, end)
    result = savings.what_if(
        session,
        org_id=org_id,
        from_model=from_model,
        to_model=to_model,
        share=share,
        start=start,
        end=end,
        project=project,
    )
    return result, start, end


def model_suggestions(used_models: list[str]) -> list[str]:
    """Models the user already calls, then the cheaper targets recommendations suggest."""
    targets = [s.to_model for s in SUBSTITUTIONS]
    return list(dict.fromkeys([*used_models, *targets]))


class WhatIfState(rx.State):
    # The form's values: kept here so "Try it" can fill them (the form is re-keyed to show them).
    from_model: str = ""
    to_model: str = ""
    share_percent: str = ""
    start_date: str = ""
    end_date: str = ""
    project: str = ALL
    project_names: list[str] = []
    suggestions: list[str] = []
    form_key: int = 0
    from_model_error: str = ""
    to_model_error: str = ""
    share_error: str = ""
    start_error: str = ""
    end_error: str = ""
    form_error: str = ""
    running: bool = False
    has_result: bool = False
    view: WhatIfView = WhatIfView()
    points: list[WhatIfPoint] = []

    @rx.var
    def chart(self) -> go.Figure:
        return whatif_figure(self.points)

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.from_model_error = errors.get("from_model", "")
        self.to_model_error = errors.get("to_model", "")
        self.share_error = errors.get("share", "")
        self.start_error = errors.get("start", "")
        self.end_error = errors.get("end", "")
        self.form_error = errors.get("form", "")

    def _remember(self, form_data: dict[str, Any]) -> None:
        self.from_model = str(form_data.get("from_model", "")).strip()
        self.to_model = str(form_data.get("to_model", "")).strip()
        self.share_percent = str(form_data.get("share", "")).strip()
        self.start_date = str(form_data.get("start", "")).strip()
        self.end_date = str(form_data.get("end", "")).strip()
        self.project = str(form_data.get("project", ALL)) or ALL

    def _form_data(self) -> dict[str, Any]:
        return {
            "from_model": self.from_model,
            "to_model": self.to_model,
            "share": self.share_percent,
            "start": self.start_date,
            "end": self.end_date,
            "project": self.project,
        }

    def _fill(self, from_model: str, to_model: str, share_percent: str, project: str) -> None:
        start, end = default_range(datetime.now(UTC).date())
        self.from_model, self.to_model, self.share_percent = from_model, to_model, share_percent
        self.start_date, self.end_date = start.isoformat(), end.isoformat()
        self.project = project
        self.form_key += 1  # re-mount the form so its inputs show the new values

    async def _calculate(self, actor: Actor) -> None:
        form = validate_whatif_form(self._form_data())
        self._show_errors(form.errors)
        if form.errors:
            self.has_result = False  # no numbers next to a field that says they are wrong
            return
        try:
            result, start, end = await call_in_session(
                lambda session: run_whatif(session, org_id=actor.org_id, **form.values)
            )
        except AppError as error:
            self._show_errors({error_field(error): error_message(error)})
            self.has_result = False
            return
        self.view = whatif_view(result, start, end)
        self.points = whatif_points(result)
        self.has_result = True

    @rx.event
    async def load(self):
        """After the overview's own load (same page): suggestions from its data and, on the
        first visit, the top switch_model recommendation to start from; later visits ask the
        last question again."""
        actor = await current_actor(self)
        if actor is None:
            return None  # the overview's load redirects
        overview = await self.get_state(OverviewState)
        self.project_names = overview.project_names
        self.suggestions = model_suggestions(overview._model_names)
        if not self.from_model:
            switch = [r for r in overview.recommendations if r.kind == "switch_model"]
            if not switch:
                self._fill("", "", "80", overview.project)
                return None
            top = switch[0]
            self._fill(top.from_model, top.to_model, top.share_percent, overview.project)
        # Back on the page: the same question, on the calls tracked since.
        await self._calculate(actor)
        return None

    @rx.event
    async def try_recommendation(self, from_model: str, to_model: str, share_percent: str):
        """A recommendation card's "Try it": the same model, target, share, window, project."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        overview = await self.get_state(OverviewState)
        self._fill(from_model, to_model, share_percent, overview.project)
        await self._calculate(actor)
        return rx.scroll_to("whatif-panel")

    @rx.event
    async def calculate(self, form_data: dict[str, Any]):
        self._remember(form_data)
        actor = await current_actor(self)
        if actor is None:
            yield rx.redirect(SIGN_IN_ROUTE)
            return
        self.running = True
        yield
        await self._calculate(actor)
        self.running = False
