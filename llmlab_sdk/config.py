"""The SDK's settings: one frozen object, built from ``configure()`` arguments over the environment.

This is the only module that reads ``LLMLAB_*`` environment variables.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmlab_sdk.http import DEFAULT_BASE_URL, MAX_EVENTS_PER_REQUEST

QueueFullPolicy = Literal["drop_newest", "drop_oldest"]
SPOOL_FOLDER = "spool"


@dataclass(frozen=True, slots=True)
class SDKConfig:
    """Everything the SDK needs to know; see :func:`llmlab_sdk.configure` for each field."""

    api_key: str | None = None
    base_url: str = DEFAULT_BASE_URL
    project: str | None = None
    tags: tuple[str, ...] = ()
    end_user: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    max_queue_size: int = 10_000
    queue_full_policy: QueueFullPolicy = "drop_newest"
    batch_size: int = MAX_EVENTS_PER_REQUEST
    flush_interval_ms: int = 1_000
    request_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0
    spool_dir: Path | None = None
    spool_max_mb: int = 100
    spool_after_attempts: int = 3
    enforce_budget: bool = False
    budget_check_interval: float = 60.0
    flush_at_exit_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_EVENTS_PER_REQUEST:
            raise ValueError(
                f"batch_size must be 1..{MAX_EVENTS_PER_REQUEST}, got {self.batch_size}"
            )
        if self.max_queue_size < 1:
            raise ValueError(f"max_queue_size must be positive, got {self.max_queue_size}")
        if self.spool_max_mb < 1:
            raise ValueError(f"spool_max_mb must be positive, got {self.spool_max_mb}")
        if self.queue_full_policy not in ("drop_newest", "drop_oldest"):
            raise ValueError(
                "queue_full_policy must be 'drop_newest' or 'drop_oldest', "
                f"got {self.queue_full_policy!r}"
            )

    @property
    def active(self) -> bool:
        """True when events should be captured and sent (enabled and an API key is known)."""
        return self.enabled and bool(self.api_key)


def _env_bool(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower() not in ("0", "false", "no", "off")


def llmlab_home(environ: Mapping[str, str] | None = None) -> Path:
    """The user's LLMLab folder: ``$LLMLAB_HOME``, else ``~/.llmlab`` (the CLI's too)."""
    env = os.environ if environ is None else environ
    home = env.get("LLMLAB_HOME")
    return Path(home).expanduser() if home else Path.home() / ".llmlab"


def default_spool_dir(home: Path, base_url: str, api_key: str | None) -> Path:
    """``<home>/spool/<account>``: one folder per server and key, so that a program never
    resends another one's events with its own key."""
    account = hashlib.sha256(f"{base_url}\n{api_key or ''}".encode()).hexdigest()[:16]
    return home / SPOOL_FOLDER / account


def load_config(environ: Mapping[str, str] | None = None, **overrides: Any) -> SDKConfig:
    """Build the settings: explicit ``overrides`` (those not None) win over ``LLMLAB_*`` variables.

    Environment variables: ``LLMLAB_API_KEY``, ``LLMLAB_BASE_URL``, ``LLMLAB_PROJECT``,
    ``LLMLAB_ENABLED`` (``0`` turns the SDK off), ``LLMLAB_SPOOL_DIR``, ``LLMLAB_SPOOL``
    (``0`` turns the spool off), ``LLMLAB_HOME`` (where the default spool folder lives),
    ``LLMLAB_ENFORCE_BUDGET``.

    The spool is on unless ``spool=False``: in ``spool_dir`` when given, else in a folder of
    its own under ``~/.llmlab/spool/`` for this server and key.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {
        "api_key": env.get("LLMLAB_API_KEY") or None,
        "base_url": env.get("LLMLAB_BASE_URL") or None,
        "project": env.get("LLMLAB_PROJECT") or None,
        "enabled": _env_bool(env.get("LLMLAB_ENABLED")),
        "spool": _env_bool(env.get("LLMLAB_SPOOL")),
        "spool_dir": env.get("LLMLAB_SPOOL_DIR") or None,
        "enforce_budget": _env_bool(env.get("LLMLAB_ENFORCE_BUDGET")),
    }
    values.update({name: value for name, value in overrides.items() if value is not None})
    values = {name: value for name, value in values.items() if value is not None}
    if "tags" in values:
        values["tags"] = tuple(values["tags"])
    if "metadata" in values:
        values["metadata"] = dict(values["metadata"])
    if not values.pop("spool", True):
        values["spool_dir"] = None
    elif "spool_dir" in values:
        values["spool_dir"] = Path(values["spool_dir"]).expanduser()
    else:
        base_url = values.get("base_url", DEFAULT_BASE_URL)
        values["spool_dir"] = default_spool_dir(llmlab_home(env), base_url, values.get("api_key"))
    return SDKConfig(**values)
