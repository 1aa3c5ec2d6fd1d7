"""The CLI's way into the REST API: the SDK's shared `LLMLabClient`, set up from the config."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, TypeVar

from llmlab_cli.config import CLIConfig, read_config_file, save_config
from llmlab_cli.errors import CLIError

if TYPE_CHECKING:
    from llmlab_sdk.http import LLMLabClient

T = TypeVar("T")

TIMEOUT_SECONDS = 30.0
MAX_RATE_LIMIT_WAITS = 5
MAX_RATE_LIMIT_WAIT_SECONDS = 60.0


def user_agent() -> str:
    """`llmlab-cli/<version>`, so the server can tell CLI traffic apart."""
    try:
        return f"llmlab-cli/{version('llmlab')}"
    except PackageNotFoundError:
        return "llmlab-cli"


def open_client(
    config: CLIConfig, *, needs_key: bool = True, timeout: float = TIMEOUT_SECONDS
) -> LLMLabClient:
    """A client for `config.base_url`, authenticated with the API key (and the login token).

    With `needs_key`, a missing API key is a `CLIError` before anything is sent.
    """
    from llmlab_sdk.http import LLMLabClient

    if needs_key:
        config.require_api_key()
    return LLMLabClient(
        config.base_url,
        api_key=config.api_key,
        access_token=config.access_token,
        timeout=timeout,
        user_agent=user_agent(),
        org_id=config.org_id,
    )


def call_with_login(
    client: LLMLabClient, config: CLIConfig, call: Callable[[LLMLabClient], T]
) -> T:
    """Run an account call (it needs the login token), refreshing the token when the server
    refuses it: access tokens last 15 minutes, so most commands after the first quarter hour
    start with a refresh.

    The new token pair is saved to the config file at once (the old refresh token no longer
    works), so the next command uses it.
    """
    from llmlab_sdk.errors import LLMLabAPIError

    if not config.access_token and not config.refresh_token:
        raise CLIError("not logged in: run `llmlab login`")
    if client.access_token:
        try:
            return call(client)
        except LLMLabAPIError as exc:
            if exc.status_code != 401 or not config.refresh_token:
                raise
    if not config.refresh_token:
        raise CLIError("the login has expired: run `llmlab login`")
    try:
        pair = client.refresh(config.refresh_token)
    except LLMLabAPIError as exc:
        if exc.status_code != 401:
            raise
        raise CLIError(
            f"the login has expired or was ended ({exc.message}): run `llmlab login`"
        ) from exc
    client.access_token = pair["access_token"]
    save_config(
        read_config_file().with_changes(
            access_token=pair["access_token"], refresh_token=pair["refresh_token"]
        )
    )
    return call(client)


def patiently(call: Callable[[], T], *, attempts: int = MAX_RATE_LIMIT_WAITS) -> T:
    """Run `call`, waiting out the server's rate limit (its `Retry-After`) up to `attempts`
    times; for commands that send many requests in a row, like `llmlab demo`."""
    from llmlab_sdk.errors import LLMLabAPIError

    for attempt in range(attempts + 1):
        try:
            return call()
        except LLMLabAPIError as exc:
            if exc.status_code != 429 or attempt == attempts:
                raise
            time.sleep(min(MAX_RATE_LIMIT_WAIT_SECONDS, exc.retry_after or 1.0))
    raise AssertionError("unreachable")
