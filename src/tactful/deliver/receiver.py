"""A reference webhook receiver: what a bank's endpoint does with Tactful's webhooks.

It verifies each request (:func:`~tactful.deliver.signature.verify`: signature, freshness,
replay), then acts on each idempotency key once: the first request with a key is accepted
(its effect -- forwarding to the push or SMS provider -- happens once), a later one with the
same key is answered 200 and dropped, so the sender stops retrying. It counts both, which is
what the kill test and the benchmark read. Standard library only (``http.server``, a thread
per connection, HTTP/1.1 keep-alive); a bank's own endpoint does the same in its framework.

    python -m tactful.deliver.receiver --port 8080 --secret-env WEBHOOK_SECRET [--engine asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from tactful.deliver.signature import ReplayGuard, verify
from tactful.errors import SignatureRejected

__all__ = ["WebhookReceiver"]


class WebhookReceiver(ThreadingHTTPServer):
    """Verifies, deduplicates by idempotency key, and counts.

    ``accepted`` maps each key to how many times it was accepted (1 by construction, which
    the tests check rather than trust); ``raw`` counts every verified request per key;
    ``fail_next`` makes the next requests answer 503 (a provider outage)."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, secret: bytes, host: str = "127.0.0.1", port: int = 0, *,
                 on_accept: Callable[[str, dict[str, Any]], None] | None = None,
                 bind: bool = True) -> None:
        super().__init__((host, port), _Handler, bind_and_activate=bind)
        if not bind:  # the counting and checking only, for another server (_serve_asyncio)
            self.socket.close()
        self.secret = secret
        self.guard = ReplayGuard()
        self.lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self.raw: Counter[str] = Counter()
        self.rejected: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.fail_next = 0
        self.on_accept = on_accept
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/hooks/tactful"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that vanished mid-request (killed, timed out) is its retry's business,
        not an error of the receiver's; anything else is reported as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name="webhook-receiver")
        self._thread.start()
        return self

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        """Stop serving and close the connections still open: a sender's keep-alive connection
        would otherwise hold its handler thread, and its socket, past the receiver's end."""
        self.shutdown()
        self.server_close()
        with self.lock:
            left, self._open = list(self._open), set()
        for request in left:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
            request.close()

    def handle_webhook(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
        try:
            key = verify(self.secret, headers, body, guard=self.guard)
        except SignatureRejected as exc:
            with self.lock:
                self.rejected.append(str(exc))
            return 401
        with self.lock:
            self.raw[key] += 1
            self.headers_seen.append(headers)
            self.bodies.append(body)
            first = key not in self.accepted
            if first:
                self.accepted[key] += 1
        if first and self.on_accept is not None:
            self.on_accept(key, json.loads(body))
        return 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: WebhookReceiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if len(body) < length:  # the sender died mid-request: nothing to verify or answer
            self.close_connection = True
            return
        status = self.server.handle_webhook(dict(self.headers.items()), body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


async def _serve_asyncio(ledger: WebhookReceiver, host: str, port: int,
                         ready: Callable[[str], None]) -> None:
    """The same receiver on asyncio streams: one event loop instead of a thread per
    connection, and only what a webhook needs of HTTP/1.1 (``Content-Length`` bodies,
    keep-alive) -- a fraction of ``http.server``'s CPU per request, which is what a benchmark
    sharing its machine with the sender needs."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(headers.get("Content-Length", headers.get("content-length", "0")))
                body = await reader.readexactly(length)
                status = ledger.handle_webhook(headers, body)
                writer.write(f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
                             "Content-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, host, port, backlog=256)
    bound = server.sockets[0].getsockname()
    ready(f"http://{bound[0]}:{bound[1]}/hooks/tactful")
    async with server:
        await server.serve_forever()


_REASONS: Final = {200: "OK", 401: "Unauthorized", 503: "Service Unavailable"}


def main() -> None:  # pragma: no cover -- run by bench/deliver.py in its own process
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret-env", default="TACTFUL_DELIVER_WEBHOOK_SECRET")
    parser.add_argument("--engine", choices=["threads", "asyncio"], default="threads")
    args = parser.parse_args()
    secret = os.environ[args.secret_env].encode()
    if args.engine == "asyncio":
        server = WebhookReceiver(secret, bind=False)
        loop = threading.Thread(target=asyncio.run, daemon=True, args=(_serve_asyncio(
            server, args.host, args.port,
            lambda url: print(json.dumps({"url": url}), flush=True)),))  # noqa: T201
        loop.start()
    else:
        server = WebhookReceiver(secret, args.host, args.port)
        # the parent reads the url, then asks for the counts by closing stdin
        print(json.dumps({"url": server.url}), flush=True)  # noqa: T201 -- the parent reads it
        server.start()
    try:
        sys.stdin.read()
    finally:
        if args.engine == "threads":
            server.shutdown()
        print(json.dumps({"raw": sum(server.raw.values()),  # noqa: T201
                          "accepted": sum(server.accepted.values()),
                          "keys": len(server.accepted),
                          "rejected": len(server.rejected),
                          "cpu_s": time.process_time()}), flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()
