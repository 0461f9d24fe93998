"""Answering a request sent with an ``Idempotency-Key``: the kept answer if there is one,
else the handler's, kept for the next retry (``service.idempotency``)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tactful.service.context import Store
from tactful.service.records import Principal


def answer(store: Store, *, who: Principal, key: str | None, path: str, request: BaseModel,
           run: Callable[[], BaseModel], status: int = 200,
           customer_id: str | None = None) -> JSONResponse:
    if key is None:
        return JSONResponse(run().model_dump(mode="json"), status_code=status)
    from tactful.service import idempotency

    fingerprint = idempotency.request_hash("POST", path, request.model_dump_json().encode())
    status_code, body, replayed = idempotency.once(
        store, key_id=who.key_id, idempotency_key=key, fingerprint=fingerprint,
        customer_id=customer_id, run=lambda: (status, run().model_dump(mode="json")))
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status_code, headers=headers)
