"""Every error as an RFC 9457 problem detail (``application/problem+json``).

The status comes from the error itself (``tactful.errors``: each error knows its status); the
detail is the error's message, which the engine writes for users (identifiers masked). An error
the engine did not raise on purpose is a 500 whose body says nothing of the internals: its
type, message and stack stay in the server's log.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tactful.errors import TactfulError

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("tactful.api")

SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "properties": {
                "loc": {"type": "array", "items": {"type": "string"}},
                "msg": {"type": "string"}}}},
    },
}
"""RFC 9457's problem document, as the OpenAPI document declares every error answer."""


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for these error statuses: each a problem document."""
    return {s: {"description": HTTPStatus(s).phrase,
                "content": {MEDIA_TYPE: {"schema": SCHEMA}}} for s in statuses}


COMMON = responses(401, 403, 404, 409, 413, 422, 429, 500, 503)
"""What any authenticated route may answer besides its success."""


def problem(status: int, detail: str | None = None, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem document; no ``instance``: the path would echo a customer's id back into
    every proxy's log."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase,
                            "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where each bad field is and why, without echoing the values sent."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()]


def install(app: FastAPI) -> None:
    @app.exception_handler(TactfulError)
    async def _tactful(request: Request, exc: TactfulError) -> JSONResponse:
        status = exc.status_code if exc.status_code >= 400 else 500
        if status >= 500 and type(exc) is TactfulError:
            log.error("unexpected error on %s", request.url.path, exc_info=exc)
            return problem(500, "the server could not answer")
        return problem(status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "the request does not match the schema",
                       errors=_validation_errors(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail) if exc.detail else None,
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(500, "the server could not answer")
