"""Who is calling and what they may reach, as ``Annotated`` dependencies the routes declare.

A key's scope decides which routes it may call (403 otherwise); an app key is bound to one
customer, and any other customer -- in a path, or behind a decision id -- is answered 404, the
same as a customer that does not exist, so a key cannot even learn who else is a customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from tactful.api.limits import RateLimiter
from tactful.config import Settings
from tactful.service.clock import Clock
from tactful.service.context import Store
from tactful.service.ingest import Realtime
from tactful.service.records import Principal, Scope


@dataclass
class AppState:
    store: Store
    settings: Settings
    clock: Clock
    limiter: RateLimiter
    realtime: Realtime


def state(request: Request) -> AppState:
    found: AppState = request.app.state.tactful
    return found


def store(request: Request) -> Store:
    return state(request).store


StoreDep = Annotated[Store, Depends(store)]
StateDep = Annotated[AppState, Depends(state)]


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> Principal:
    from tactful.service.keys import authenticate

    app = state(request)
    scheme, _, token = (authorization or "").partition(" ")
    found = authenticate(app.store, token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise HTTPException(401, "a valid API key is required (Authorization: Bearer <key>)",
                            headers={"WWW-Authenticate": "Bearer"})
    wait = app.limiter.allow(found.key_id)
    if wait is not None:
        raise HTTPException(429, "too many requests for this key",
                            headers={"Retry-After": str(max(1, round(wait + 0.5)))})
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


def allowed(who: Principal, *scopes: Scope) -> None:
    if who.scope is not Scope.ADMIN and who.scope not in scopes:
        raise HTTPException(403, f"a {who.scope.value} key may not call this")


def owns(who: Principal, customer_id: str) -> None:
    """An app key reaches its own customer only; others look as if they did not exist."""
    allowed(who, Scope.APP)
    if who.scope is Scope.APP and who.customer_id != customer_id:
        raise HTTPException(404, "no such customer")


def ingest_key(who: PrincipalDep) -> Principal:
    allowed(who, Scope.INGEST)
    return who


def admin_key(who: PrincipalDep) -> Principal:
    allowed(who)
    return who


IngestKey = Annotated[Principal, Depends(ingest_key)]
AdminKey = Annotated[Principal, Depends(admin_key)]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200,
           description="A retry with the same key returns the first answer"),
]
