"""Settings: per-account price overrides for custom, fine-tuned or negotiated models."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import reflex as rx

from llmlab_app.errors import AppError
from llmlab_app.services import prices, repricing, webhook_secrets
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.format import format_count, format_day, format_usd
from llmlab_app.ui.states.auth import SIGN_IN_ROUTE, current_actor
from llmlab_app.ui.states.filters import day_start, parse_day, parse_usd
from llmlab_app.ui.states.service_call import call_in_session
from llmlab_app.ui.states.views import PriceOverrideRow, price_override_row
from llmlab_core.periods import MAX_RANGE_DAYS, today_utc

_PRICE_FIELDS = ("input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok")


@dataclass
class OverrideForm:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def validate_override_form(form_data: dict[str, Any]) -> OverrideForm:
    form = OverrideForm()
    for name, label in (("provider", "provider"), ("model", "model")):
        text = str(form_data.get(name, "")).strip()
        if not text:
            form.errors[name] = f"Enter the {label} name."
        form.values[name] = text
    for name in _PRICE_FIELDS:
        required = name in ("input_per_mtok", "output_per_mtok")
        try:
            form.values[name] = parse_usd(
                str(form_data.get(name, "")), required=required, allow_zero=True
            )
        except ValueError as error:
            form.errors[name] = str(error)
    try:
        valid_from = parse_day(str(form_data.get("valid_from", "")))
    except ValueError:
        form.errors["valid_from"] = "Use a date like 2026-11-01."
    else:
        form.values["valid_from"] = day_start(valid_from) if valid_from else None
    return form


def prices_label(dataset: Any) -> str:
    """Where prices come from, and as of when, as Settings says it."""
    source = "prices file" if dataset.kind == "prices file" else "bundled dataset"
    as_of = f", prices as of {format_day(dataset.as_of)}" if dataset.as_of else ""
    return f"Prices: {dataset.name} ({source}) with LLMLab's reviewed corrections{as_of}."


def reprice_start(valid_from: datetime | None) -> date:
    """The first day an override's re-pricing covers: its own, within the longest range."""
    today = today_utc()
    earliest = today - timedelta(days=MAX_RANGE_DAYS)
    return max(valid_from.date(), earliest) if valid_from else earliest


class SettingsState(rx.State):
    overrides: list[PriceOverrideRow] = []
    loading: bool = True
    provider_error: str = ""
    model_error: str = ""
    input_per_mtok_error: str = ""
    output_per_mtok_error: str = ""
    cache_read_per_mtok_error: str = ""
    cache_write_per_mtok_error: str = ""
    valid_from_error: str = ""
    form_error: str = ""
    form_key: int = 0
    # Shown only on demand, and forgotten when the page loads again.
    signing_secret: str = ""
    # After an override is saved: re-price the stored events it covers (model, first day).
    reprice_model: str = ""
    reprice_start: str = ""
    reprice_result: str = ""
    prices_label: str = ""

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.provider_error = errors.get("provider", "")
        self.model_error = errors.get("model", "")
        self.input_per_mtok_error = errors.get("input_per_mtok", "")
        self.output_per_mtok_error = errors.get("output_per_mtok", "")
        self.cache_read_per_mtok_error = errors.get("cache_read_per_mtok", "")
        self.cache_write_per_mtok_error = errors.get("cache_write_per_mtok", "")
        self.valid_from_error = errors.get("valid_from", "")
        self.form_error = errors.get("form", "")

    async def _reload(self, actor: Actor) -> None:
        rows = await call_in_session(
            lambda session: prices.list_overrides(session, org_id=actor.org_id)
        )
        self.overrides = [price_override_row(row) for row in rows]
        self.loading = False

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self.signing_secret = ""
        self.prices_label = prices_label(prices.prices_dataset())
        await self._reload(actor)
        return None

    @rx.event
    async def show_signing_secret(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self.signing_secret = await call_in_session(
            lambda session: webhook_secrets.reveal_signing_secret(session, actor=actor)
        )
        return None

    @rx.event
    async def rotate_signing_secret(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        self.signing_secret = await call_in_session(
            lambda session: webhook_secrets.rotate_signing_secret(session, actor=actor)
        )
        return rx.toast.success("New signing secret: update your webhook receivers")

    @rx.event
    async def add_override(self, form_data: dict[str, Any]):
        form = validate_override_form(form_data)
        self._show_errors(form.errors)
        if form.errors:
            return None
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        try:
            await call_in_session(
                lambda session: prices.create_override(session, actor=actor, **form.values)
            )
        except AppError as error:
            self._show_errors({"form": error.message[:1].upper() + error.message[1:] + "."})
            return None
        await self._reload(actor)
        self.form_key += 1  # a fresh, empty form
        self.reprice_model = form.values["model"]
        self.reprice_start = reprice_start(form.values["valid_from"]).isoformat()
        self.reprice_result = ""
        return rx.toast.success("Price saved: new events use it")

    @rx.event
    async def reprice_stored_events(self):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        start, model = date.fromisoformat(self.reprice_start), self.reprice_model
        result = await call_in_session(
            lambda session: repricing.reprice_events(
                session, actor=actor, start=start, end=None, model=model
            )
        )
        self.reprice_result = (
            f"Re-priced {format_count(result.events)} {model} events since "
            f"{format_day(result.start)}: {format_usd(result.before_usd)} before, "
            f"{format_usd(result.after_usd)} now."
        )
        return None

    @rx.event
    def dismiss_reprice(self) -> None:
        self.reprice_model = self.reprice_start = self.reprice_result = ""

    @rx.event
    async def delete_override(self, override_id: str):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(SIGN_IN_ROUTE)
        target = uuid.UUID(override_id)
        await call_in_session(
            lambda session: prices.delete_override(session, actor=actor, override_id=target)
        )
        await self._reload(actor)
        return None
