"""The budgets page: list with status, create / edit / delete with field messages, alerts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from llmlab_app.config import get_settings
from llmlab_app.errors import AddressNotAllowed, AppError
from llmlab_app.services import budgets, pages
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.filters import parse_thresholds, parse_usd
from llmlab_app.ui.states.service_call import call_in_session, call_service
from llmlab_app.ui.states.views import AlertRow, BudgetView, alert_row, budget_view

ALL_PROJECTS = "all"
PERIODS = ("daily", "weekly", "monthly")


@dataclass
class BudgetForm:
    """A validated budget form, as keyword arguments of the budgets service."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def validate_budget_form(form_data: dict[str, Any]) -> BudgetForm:
    form = BudgetForm()
    name = str(form_data.get("name", "")).strip()
    if not name:
        form.errors["name"] = "Give the budget a name."
    elif len(name) > 100:
        form.errors["name"] = "Keep the name under 100 characters."
    form.values["name"] = name
    try:
        form.values["amount_usd"] = parse_usd(str(form_data.get("amount", "")), required=True)
    except ValueError as error:
        form.errors["amount"] = str(error)
    period = str(form_data.get("period", "monthly"))
    if period not in PERIODS:
        form.errors["period"] = "Choose daily, weekly or monthly."
    form.values["period"] = period
    try:
        form.values["alert_thresholds"] = parse_thresholds(str(form_data.get("thresholds", "")))
    except ValueError as error:
        form.errors["thresholds"] = str(error)
    webhook = str(form_data.get("webhook_url", "")).strip()
    if webhook and not webhook.startswith(("https://", "http://")):
        form.errors["webhook_url"] = "Use a full http:// or https:// address."
    form.values["webhook_url"] = webhook or None
    project = str(form_data.get("project", ALL_PROJECTS))
    form.values["project"] = None if project in ("", ALL_PROJECTS) else project
    form.values["hard_limit"] = form_data.get("hard_limit") in (True, "on", "true")
    return form


class BudgetsState(rx.State):
    budgets: list[BudgetView] = []
    alerts: list[AlertRow] = []
    project_names: list[str] = []
    loading: bool = True
    dialog_open: bool = False
    editing: BudgetView = BudgetView()
    name_error: str = ""
    amount_error: str = ""
    period_error: str = ""
    thresholds_error: str = ""
    webhook_url_error: str = ""
    form_error: str = ""
    saving: bool = False
    deleting_id: str = ""
    deleting_name: str = ""

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.name_error = errors.get("name", "")
        self.amount_error = errors.get("amount", "")
        self.period_error = errors.get("period", "")
        self.thresholds_error = errors.get("thresholds", "")
        self.webhook_url_error = errors.get("webhook_url", "")
        self.form_error = errors.get("form", "")

    @rx.var
    def is_editing(self) -> bool:
        return self.editing.id != ""

    async def _reload(self, actor: Actor) -> None:
        data = await call_service(pages.read_budgets, actor=actor)
        today = datetime.now(UTC).date()
        self.budgets = [
            budget_view(status, today, show_webhook_url=data.shows_webhooks)
            for status in data.statuses
        ]
        names = {status.budget.id: status.budget.name for status in data.statuses}
        self.alerts = [
            alert_row(alert, names, data.deliveries.get(alert.id)) for alert in data.alerts
        ]
        self.project_names = data.project_names
        self.loading = False

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        await self._reload(actor)
        return None

    @rx.event
    def open_create(self):
        self.editing = BudgetView(period="monthly", thresholds="50, 80, 100")
        self._show_errors({})
        self.dialog_open = True

    @rx.event
    def open_edit(self, budget_id: str):
        match = [b for b in self.budgets if b.id == budget_id]
        if not match:
            return
        self.editing = match[0]
        self._show_errors({})
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, is_open: bool):
        self.dialog_open = is_open

    @rx.event
    async def save(self, form_data: dict[str, Any]):
        form = validate_budget_form(form_data)
        self._show_errors(form.errors)
        if form.errors:
            return
        actor = await current_actor(self)
        if actor is None:
            yield rx.redirect(SIGN_IN_ROUTE)
            return
        self.saving = True
        yield
        editing_id = self.editing.id
        try:
            if editing_id:
                await call_in_session(
                    lambda session: budgets.update_budget(
                        session,
                        actor=actor,
                        budget_id=uuid.UUID(editing_id),
                        changes=form.values,
                        allow_private_webhooks=get_settings().webhook_allow_private,
                    )
                )
            else:
                await call_in_session(
                    lambda session: budgets.create_budget(
                        session,
                        actor=actor,
                        allow_private_webhooks=get_settings().webhook_allow_private,
                        **form.values,
                    )
                )
        except AddressNotAllowed as error:
            detail = error.message.removeprefix("webhook_url: ")
            self._show_errors({"webhook_url": detail[:1].upper() + detail[1:] + "."})
            self.saving = False
            return
        except AppError as error:
            self._show_errors({"form": error.message[:1].upper() + error.message[1:]})
            self.saving = False
            return
        self.saving = False
        self.dialog_open = False
        await self._reload(actor)
        yield rx.toast.success("Budget saved" if editing_id else "Budget created")

    @rx.event
    def ask_delete(self, budget_id: str, name: str):
        self.deleting_id, self.deleting_name = budget_id, name

    @rx.event
    def cancel_delete(self):
        self.deleting_id = self.deleting_name = ""

    @rx.event
    async def confirm_delete(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        budget_id = uuid.UUID(self.deleting_id)
        await call_in_session(
            lambda session: budgets.delete_budget(session, actor=actor, budget_id=budget_id)
        )
        self.deleting_id = self.deleting_name = ""
        await self._reload(actor)
        return rx.toast.success("Budget deleted")
