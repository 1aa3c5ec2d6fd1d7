"""Reflex configuration of the LLMLab dashboard (one process serves pages, websocket and API).

Reflex reads `rxconfig.py` from the folder it runs in: the clone's own, or the one that
`llmlab serve` writes into its run folder; both call `reflex_config()`.
"""

from __future__ import annotations

import os
from pathlib import Path

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from llmlab_app.bun import BunUnavailable, bun_binary
from llmlab_app.config import get_settings
from llmlab_app.ui.styles import theme


def reflex_config(*, tools_dir: Path | None = None) -> rx.Config:
    """The app's Reflex config; bun is taken from `tools_dir` when it holds one (`llmlab
    serve` names its bun in REFLEX_BUN_PATH instead, which wins anyway)."""
    # Reflex would otherwise ask PyPI for a newer version on every command; these machines
    # (and many deployments) only reach package registries through their clients.
    os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    # Reflex probes registry latency (including a mirror) unless a registry is named.
    os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")

    # Several backend workers need a shared state store, so a Redis URL switches the manager
    # to Redis; otherwise Reflex's default (disk, or REFLEX_STATE_MANAGER_MODE=memory) applies.
    redis_url = get_settings().redis_url
    optional: dict[str, object] = (
        {"state_manager_mode": rx.constants.StateManagerMode.REDIS, "redis_url": redis_url}
        if redis_url
        else {}
    )
    if tools_dir is not None and "REFLEX_BUN_PATH" not in os.environ:
        try:
            local_bun = bun_binary(tools_dir)
        except BunUnavailable:
            local_bun = None
        if local_bun is not None and local_bun.exists():
            optional["bun_path"] = local_bun
    return rx.Config(
        app_name="llmlab_app",
        # Reflex's default, ("*",), answers any origin's preflight with credentials allowed.
        # LLMLAB_CORS_ORIGINS governs instead (empty: same origin only); the event socket gets
        # the same rule in llmlab_app.py.
        cors_allowed_origins=tuple(get_settings().cors_origins),
        telemetry_enabled=False,
        show_built_with_reflex=False,
        plugins=[rx.plugins.RadixThemesPlugin(theme=theme)],
        disable_plugins=[SitemapPlugin],
        **optional,
    )
