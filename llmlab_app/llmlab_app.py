"""The LLMLab Reflex app: dashboard pages plus the REST API, served on one port."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import reflex as rx
from reflex.utils.prerequisites import get_states_dir

from llmlab_app.api import app as api_app
from llmlab_app.api.main import (
    prepare_database,
    start_background_workers,
    stop_background_workers,
)
from llmlab_app.api.origins import restrict_socket_origins
from llmlab_app.gateway import stop_gateway
from llmlab_app.logs import install_log_redaction
from llmlab_app.metrics import DASHBOARD_SESSIONS
from llmlab_app.state_files import protect_state_files
from llmlab_app.ui import styles
from llmlab_app.ui.pages import (
    audit,
    budgets,
    events,
    invitation,
    keys,
    members,
    overview,
    settings,
    signin,
    signup,
)
from llmlab_app.ui.states.auth import SessionCheck
from llmlab_app.ui.states.messages import show_refusal

install_log_redaction()
protect_state_files(get_states_dir())

app = rx.App(
    api_transformer=api_app, style=styles.base_style, backend_exception_handler=show_refusal
)
restrict_socket_origins(app.sio, api_app.state.settings)
app.add_middleware(SessionCheck())

# How often each process counts its connected dashboard websockets for /metrics.
SESSION_SAMPLE_SECONDS = 5.0


@app.register_lifespan_task
@contextlib.asynccontextmanager
async def _api_lifespan() -> AsyncIterator[None]:
    """FastAPI's own lifespan does not run when Reflex mounts it, so its start-up and
    shutdown work (migrations, the webhook worker) is done here. Not the collector settings
    (`tune_garbage_collector`): with them in this process a dashboard browser test failed
    (possibly the flake noted on issue 8, not proven either way), so they stay API-only."""
    await asyncio.to_thread(prepare_database, api_app)
    start_background_workers(api_app)
    try:
        yield
    finally:
        await stop_gateway(api_app.state.gateway_app)
        await asyncio.to_thread(stop_background_workers, api_app)


@app.register_lifespan_task
async def _count_dashboard_sessions() -> None:
    """Best effort: the engine.io sockets open on this process, sampled every few seconds
    (each worker counts its own; the metric adds them up)."""
    while True:
        server = app.sio
        DASHBOARD_SESSIONS.set(len(server.eio.sockets) if server is not None else 0)
        await asyncio.sleep(SESSION_SAMPLE_SECONDS)


for page, view in (
    (signin, signin.signin_page),
    (signup, signup.signup_page),
    (overview, overview.overview_page),
    (events, events.events_page),
    (budgets, budgets.budgets_page),
    (keys, keys.keys_page),
    (members, members.members_page),
    (audit, audit.audit_page),
    (invitation, invitation.invitation_page),
    (settings, settings.settings_page),
):
    app.add_page(view, route=page.ROUTE, title=page.TITLE, on_load=page.ON_LOAD)
