"""The FastAPI application: ``create_app`` builds one over a store; ``from_environment`` is the
factory ``tactful serve`` gives uvicorn (each worker builds its own from ``TACTFUL_*``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tactful import __version__
from tactful.api import metrics, problems
from tactful.api.deps import AppState
from tactful.api.limits import BodyLimit, InFlight, RateLimiter
from tactful.api.routes import customers, feed, ingest, ops
from tactful.config import Settings, get_settings
from tactful.service.clock import Clock
from tactful.service.context import Store, open_store
from tactful.service.delivery import start_delivery
from tactful.service.ingest import Realtime

TITLE = "Tactful"
DESCRIPTION = (
    "The customer's feed, feedback, preferences, consents and rights, and the ingestion of "
    "the bank's transactions and events. Every call but /health, /ready and /metrics needs an "
    "API key (`tactful keys create`) as `Authorization: Bearer <key>`; errors are RFC 9457 "
    "problem details.")


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    chosen = settings or get_settings()
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        halt = start_delivery(store) if chosen.api_deliver else None
        try:
            yield
        finally:
            if halt is not None:
                halt()

    app = FastAPI(title=TITLE, version=__version__, description=DESCRIPTION,
                  docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.tactful = AppState(
        store=store, settings=chosen, clock=Clock(chosen.api_clock),
        limiter=RateLimiter(rate=chosen.api_rate_per_second, burst=chosen.api_burst),
        realtime=Realtime())
    problems.install(app)
    metrics.install(app)
    for router in (ingest.router, feed.router, customers.router):
        app.include_router(router, responses=problems.COMMON)
    app.include_router(ops.router)
    app.add_middleware(BodyLimit, max_bytes=chosen.api_max_body_bytes)
    app.add_middleware(InFlight, limit=chosen.api_max_in_flight)
    return app


def from_environment() -> FastAPI:
    settings = get_settings()
    return create_app(open_store(settings.database_url), settings)
