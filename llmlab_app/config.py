"""The one settings object of the app, read from `LLMLAB_*` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Server settings. Every field can be set as `LLMLAB_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LLMLAB_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".llmlab" / "data")
    database_url: str | None = None
    jwt_secret: str | None = None
    access_token_minutes: int = 24 * 60
    refresh_token_days: int = 30
    rate_limit: str = "100/minute"
    auth_rate_limit: str = "20/minute"
    redis_url: str | None = None
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = 1_000_000
    max_batch_events: int = 1_000
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
            self.data_dir.mkdir(parents=True, exist_ok=True)
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
