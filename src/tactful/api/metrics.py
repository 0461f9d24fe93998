"""Prometheus metrics: requests by route, method and status, and their latency by route.

Each app has its own registry (tests make many apps in one process). With several workers each
process counts its own requests; a scrape reaches one of them, so run one worker per pod when
the figures must be whole, or scrape each worker's port.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Measure:
    """A plain ASGI middleware (not ``@app.middleware("http")``, whose request and response
    wrapping cost a feed request a fifth of its CPU): counts each answer by route, method and
    status, and times it."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            name = getattr(route, "path", "unmatched")
            self.requests.labels(name, scope["method"], str(status[0])).inc()
            self.latency.labels(name).observe(time.perf_counter() - started)


def install(app: FastAPI) -> CollectorRegistry:
    registry = CollectorRegistry()
    requests = Counter("tactful_http_requests", "HTTP requests answered",
                       ["route", "method", "status"], registry=registry)
    latency = Histogram("tactful_http_request_seconds", "Time to answer a request",
                        ["route"], registry=registry,
                        buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))

    app.add_middleware(Measure, requests=requests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
