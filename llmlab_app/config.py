"""The one settings object of the app, read from `LLMLAB_*` environment variables."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Server settings. Every field can be set as `LLMLAB_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LLMLAB_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".llmlab" / "data")
    database_url: str | None = None
    jwt_secret: str | None = None
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    rate_limit: str = "100/minute"
    auth_rate_limit: str = "20/minute"
    redis_url: str | None = None
    # Origins other than the app's own whose pages may call the API and open the dashboard's
    # event socket (empty: same origin only). JSON list or comma-separated, like the next one.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For is believed (api/client_address.py); CIDRs or addresses.
    trusted_proxies: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode] = (
        Field(default_factory=list)
    )
    # Where users reach the app, e.g. https://llmlab.example.com: https turns on HSTS.
    public_url: str | None = None
    max_body_bytes: int = 1_000_000
    max_batch_events: int = 1_000
    # Who may create an account: anyone (`open`), only someone invited to an organisation
    # (`invite`), or nobody through the API (`closed`: `llmlab admin create-user`).
    signup: Literal["open", "invite", "closed"] = "open"
    # A genai-prices data file (its data.json format) that replaces the bundled price dataset,
    # so a price change needs no release; its date is shown by GET /api/prices.
    prices_file: Path | None = None
    # Budget alert webhooks (docs/budgets.md): delivered by a background worker, off the
    # request path. Retry n waits backoff * 2**(n-1) seconds, capped at backoff_max.
    webhook_worker_enabled: bool = True
    webhook_poll_seconds: float = Field(default=2.0, gt=0)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    webhook_backoff_seconds: float = Field(default=15.0, ge=0)
    webhook_backoff_max_seconds: float = Field(default=1800.0, ge=0)
    # The gateway (`llmlab_app/gateway`): `{path}` of /gateway/<provider>/v1/{path} is appended to
    # these; its own body limit (images and long prompts pass), not `max_body_bytes`.
    gateway_openai_url: str = "https://api.openai.com/v1"
    gateway_anthropic_url: str = "https://api.anthropic.com/v1"
    gateway_max_body_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # Per API key, counted apart from the REST API's; unset: the same as `rate_limit`.
    gateway_rate_limit: str | None = None
    # Raw events older than this many days are deleted in the background (the daily rollups
    # stay, so summaries, budgets and forecasts do not change); tracking then refuses events
    # older than that. Unset: events are kept for good.
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    # Bearer token that GET /metrics asks for; unset, /metrics answers 404.
    metrics_token: str | None = None
    # Off: webhooks go to public addresses only (services/outbound.py). On, for receivers on
    # the operator's own network.
    webhook_allow_private: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins_are_origins(cls, value: Any) -> Any:
        return [_origin_of(str(origin), name="LLMLAB_CORS_ORIGINS") for origin in _listed(value)]

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_are_networks(cls, value: Any) -> Any:
        try:
            return [
                item
                if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network)
                else ipaddress.ip_network(str(item).strip(), strict=False)
                for item in _listed(value)
            ]
        except ValueError as exc:
            raise ValueError(f"LLMLAB_TRUSTED_PROXIES: {exc}") from exc

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_url(cls, url: str | None) -> str | None:
        if url:
            _origin_of(url, name="LLMLAB_PUBLIC_URL")
        return url or None

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        if self.env == "production" and (
            not self.jwt_secret or len(self.jwt_secret) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                f"LLMLAB_JWT_SECRET must be set to at least {MIN_SECRET_LENGTH} characters "
                "when LLMLAB_ENV=production"
            )
        return self

    @property
    def public_origin(self) -> str | None:
        """`scheme://host[:port]` of `public_url`, as a browser sends it in `Origin`."""
        return _origin_of(self.public_url, name="LLMLAB_PUBLIC_URL") if self.public_url else None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'llmlab.db'}"

    def resolved_jwt_secret(self) -> str:
        """The signing secret; in development one is generated once and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Write aside, then link into place: workers starting together agree on one
            # secret and nobody reads a half-written file.
            draft = path.with_name(f".jwt_secret.{os.getpid()}.{secrets.token_hex(4)}")
            draft.touch(mode=0o600)
            draft.write_text(secrets.token_urlsafe(48))
            try:
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()


def _listed(value: Any) -> list[Any]:
    """A list setting from the environment: a JSON list, or items separated by commas."""
    if not isinstance(value, str):
        return list(value)
    text = value.strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list):
            raise ValueError("expected a JSON list")
        return parsed
    return [item.strip() for item in text.split(",") if item.strip()]


def _origin_of(url: str, *, name: str) -> str:
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"{name}: {url!r} is not a URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{name}: {url!r} must be an http:// or https:// address")
    port = f":{parsed.port}" if parsed.port else ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}{port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
