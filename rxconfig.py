"""Reflex configuration for the LLMLab dashboard (one process serves pages, websocket and API)."""

import os
import platform
from pathlib import Path

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from llmlab_app.config import get_settings
from llmlab_app.ui.styles import theme

# Reflex would otherwise ask PyPI for a newer version on every command; these machines (and many
# deployments) only reach package registries through their clients.
os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
# Reflex probes registry latency (including a mirror) unless a registry is named.
os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")

_REPO_ROOT = Path(__file__).resolve().parent
_BUN_PACKAGE = (
    "bun-linux-aarch64" if platform.machine() in {"aarch64", "arm64"} else "bun-linux-x64"
)
# Installed by scripts/install_bun.sh from the npm registry; REFLEX_BUN_PATH still wins.
_LOCAL_BUN = _REPO_ROOT / ".tools" / "node_modules" / "@oven" / _BUN_PACKAGE / "bin" / "bun"

# Several backend workers need a shared state store, so a Redis URL switches the manager to Redis;
# otherwise Reflex's default (disk, or REFLEX_STATE_MANAGER_MODE=memory) applies.
_redis_url = get_settings().redis_url
_state_manager: dict[str, object] = (
    {"state_manager_mode": rx.constants.StateManagerMode.REDIS, "redis_url": _redis_url}
    if _redis_url
    else {}
)

_optional: dict[str, object] = {}
if _LOCAL_BUN.exists() and "REFLEX_BUN_PATH" not in os.environ:
    _optional["bun_path"] = _LOCAL_BUN

config = rx.Config(
    app_name="llmlab_app",
    # Reflex's default, ("*",), answers any origin's preflight with credentials allowed.
    # LLMLAB_CORS_ORIGINS governs instead (empty: same origin only); the event socket gets the
    # same rule in llmlab_app.py.
    cors_allowed_origins=tuple(get_settings().cors_origins),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    **_state_manager,
    plugins=[rx.plugins.RadixThemesPlugin(theme=theme)],
    disable_plugins=[SitemapPlugin],
    **_optional,
)
