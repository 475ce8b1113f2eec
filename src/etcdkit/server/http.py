"""The HTTP listener for ``--listen-metrics-urls``: ``/health``, ``/version``, ``/metrics``.

A minimal HTTP/1.1 responder on asyncio (one request per connection, GET
only), so it shares the server's loop and lifecycle: health is computed from
the live server state, not from a thread's snapshot of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from etcdkit import ETCD_VERSION

__all__ = ["HTTPListener"]


class HTTPListener:
    """Serves /health, /version and /metrics on one host:port."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: Callable[[], tuple[bool, str]]):
        self.host, self.port = host, port
        self.registry = registry
        self.health = health
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
            method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            status, ctype, body = self._route(method, path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode() + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _route(self, method: str, path: str) -> tuple[str, str, bytes]:
        if path == "/health":
            if method != "GET":
                return "405 Method Not Allowed", "text/plain", b"Method Not Allowed\n"
            ok, reason = self.health()
            body = json.dumps({"health": "true" if ok else "false", "reason": reason}, separators=(",", ":"))
            return ("200 OK" if ok else "503 Service Unavailable"), "application/json", body.encode()
        if path == "/version":
            body = json.dumps({"etcdserver": ETCD_VERSION, "etcdcluster": ETCD_VERSION[:4] + "0"})
            return "200 OK", "application/json", body.encode()
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self.registry)
        return "404 Not Found", "text/plain", b"404 page not found\n"
