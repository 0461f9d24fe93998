"""Liveness and readiness, for the orchestrator."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tactful.api.deps import StateDep
from tactful.api.problems import problem, responses
from tactful.service.context import ready as store_ready

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready", responses=responses(503))
def ready(app: StateDep) -> JSONResponse:
    """The store answers and is at this engine's schema."""
    if not store_ready(app.store):
        return problem(503, "the store is not reachable or not at this engine's schema")
    return JSONResponse({"status": "ready"})
