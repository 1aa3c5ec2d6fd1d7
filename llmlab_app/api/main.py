"""The FastAPI app: the whole REST API. Reflex mounts it (`api_transformer`); it also runs
alone (`uvicorn llmlab_app.api:app`) for API-only deployments and tests."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from llmlab_app.api.body_limit import BodySizeLimit
from llmlab_app.api.envelope import ERROR_RESPONSES, install_error_handlers
from llmlab_app.api.ratelimit import RateLimiter
from llmlab_app.api.routes import (
    auth,
    budgets,
    costs,
    events,
    health,
    keys,
    prices,
    projects,
    savings,
)
from llmlab_app.config import Settings, get_settings
from llmlab_app.db.engine import get_engine, make_engine, migrate

logger = logging.getLogger("llmlab.api")

ROUTERS = (
    health.router,
    auth.router,
    keys.router,
    events.router,
    costs.router,
    budgets.router,
    projects.router,
    prices.router,
    savings.router,
)


def prepare_database(app: FastAPI) -> None:
    """Apply pending migrations; called at start-up by whichever server runs the app."""
    migrate(app.state.engine)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    if engine is None:
        engine = (
            get_engine()
            if settings is get_settings()
            else make_engine(settings.resolved_database_url)
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_database(app)
        yield

    app = FastAPI(
        title="LLMLab API",
        version="0.1.0",
        description="Track, summarise and control what LLM API calls cost.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.rate_limiter = RateLimiter(settings)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
