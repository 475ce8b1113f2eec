"""The Watch service: one bidirectional gRPC stream carrying many watches.

The servicer is a thin driver around :class:`~etcdkit.server.watch.WatchHub`:
a receive task turns requests into hub calls; the handler itself is the
sender, draining the stream's queue (``hub.take``) and encoding responses; an
optional ticker asks the hub for periodic progress notifications. All of it
runs on the server's event loop, so hub calls never race each other.

Behaviour mirrors etcd 3.4.23 (the conformance oracle): ``created`` comes
before any event of its watch; ids are assigned from 0 per stream; unknown or
repeated cancels are ignored; a request with nothing set is ignored; a client
half-close leaves the stream open (etcd keeps serving it); an unparsable
request ends only that stream. Responses larger than ``max_request_bytes +
512 KiB`` are split for watchers that asked for ``fragment``.

Register with :func:`add_watch_servicer` to send pre-encoded bytes (each
event encoded once for all its watchers); the generated
``add_WatchServicer_to_server`` works too (responses are then parsed back into
messages, which costs a copy).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Protocol

import grpc
from google.protobuf.message import DecodeError

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.rpc.util import STREAM_UNMARSHAL_PREFIX, Malformed
from etcdkit.server.watch import WatchHub, WatchStream
from etcdkit.server.watch.encoder import ResponseEncoder

__all__ = ["GRPC_OVERHEAD_BYTES", "ServerInfo", "WatchServicer", "WatchSettings", "add_watch_servicer", "register"]

GRPC_OVERHEAD_BYTES = 512 * 1024  # etcd's grpcOverheadBytes: fragment threshold = max_request_bytes + this
DEFAULT_PROGRESS_INTERVAL = 600.0  # etcd: 10 minutes


class WatchSettings(Protocol):
    """The server configuration values the Watch service reads."""

    @property
    def max_request_bytes(self) -> int: ...

    @property
    def watch_progress_notify_interval(self) -> float:
        """Seconds between periodic progress notifications (etcd flag
        ``--experimental-watch-progress-notify-interval``); <= 0 disables them."""
        ...


class ServerInfo(Protocol):
    """What the Watch service needs from the server."""

    @property
    def config(self) -> WatchSettings: ...

    def header(self, revision: int | None = None) -> rpc_pb2.ResponseHeader: ...

    def current_revision(self) -> int: ...


class WatchServicer(rpc_pb2_grpc.WatchServicer):
    """``etcdserverpb.Watch`` over a :class:`WatchHub`."""

    def __init__(self, server: ServerInfo, hub: WatchHub) -> None:
        self._server = server
        self._hub = hub
        self.raw_responses = False  # True when registered by add_watch_servicer
        self._encoder: ResponseEncoder | None = None

    # --- settings -----------------------------------------------------------------
    @property
    def fragment_limit(self) -> int:
        return int(self._server.config.max_request_bytes) + GRPC_OVERHEAD_BYTES

    @property
    def progress_interval(self) -> float:
        return float(getattr(self._server.config, "watch_progress_notify_interval", DEFAULT_PROGRESS_INTERVAL))

    def _get_encoder(self) -> ResponseEncoder:
        # Shared by all streams (one loop): a fan-out encodes each revision's header once.
        if self._encoder is None:
            self._encoder = ResponseEncoder(self._server.header, self.fragment_limit)
        return self._encoder

    def peers(self) -> list[str]:
        """Peer addresses of the open streams (labels for the hub's fault hooks)."""
        return sorted({s.label for s in self._hub.streams})

    # --- the RPC ----------------------------------------------------------------------
    async def Watch(
        self, request_iterator: AsyncIterable[rpc_pb2.WatchRequest], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        hub = self._hub
        encoder = self._get_encoder()
        bell = _Bell()
        stream = hub.open_stream(bell.ring, label=context.peer())
        recv = asyncio.create_task(self._recv_loop(request_iterator, stream, bell, context))
        interval = self.progress_interval
        ticker = asyncio.create_task(self._ticker(stream, interval)) if interval > 0 else None
        raw = self.raw_responses
        try:
            while True:
                bell.rung = False
                if stream.drop is not None:
                    await context.abort(stream.drop.code, stream.drop.message)
                if recv.done() and not recv.cancelled() and recv.exception() is not None:
                    exc = recv.exception()
                    reason = exc.reason if isinstance(exc, _BadRequest) else str(exc)
                    await context.abort(grpc.StatusCode.INTERNAL, STREAM_UNMARSHAL_PREFIX + reason)
                items = hub.take(stream)
                if items:
                    for item in items:
                        for data in encoder.encode(item):
                            yield data if raw else rpc_pb2.WatchResponse.FromString(data)
                    # Nothing queued and no ring since the take: sleep now rather than
                    # spend another pass (and take) to find the queue empty.
                    if not (stream.queue or stream.catchup or bell.rung):
                        await bell.wait()
                    continue
                if stream.catchup:  # catch-up advanced without a response; let others run
                    await asyncio.sleep(0)
                    continue
                if not bell.rung:
                    await bell.wait()
        finally:
            recv.cancel()
            if ticker is not None:
                ticker.cancel()
            hub.close_stream(stream)

    def _denied(self, context: grpc.aio.ServicerContext[Any, Any], req: rpc_pb2.WatchCreateRequest) -> str:
        """Why the stream's user may not watch this range ("" if allowed).

        Checked on the range exactly as sent (a from-key ``b"\\0"`` end stays
        open-ended), so a watch can never see keys its user cannot read.
        """
        auth = getattr(self._server, "auth", None)
        if auth is None or not auth.enabled:
            return ""
        try:
            info = self._server.who(context)  # type: ignore[attr-defined]
            auth.check_range(info, req.key or b"\x00", req.range_end, write=False)
        except EtcdServerError as exc:
            # etcd puts the Go status string of the error in cancel_reason.
            code = "".join(part.capitalize() for part in exc.wire.code.name.split("_"))
            return f"rpc error: code = {code} desc = {exc.wire.message}"
        return ""

    async def _recv_loop(
        self,
        requests: AsyncIterable[rpc_pb2.WatchRequest],
        stream: WatchStream,
        bell: _Bell,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        hub = self._hub
        try:
            async for req in requests:
                if isinstance(req, Malformed):  # ends this stream only, as etcd's recvLoop error does
                    raise _BadRequest(req.reason)
                kind = req.WhichOneof("request_union")
                if kind == "create_request":
                    denied = self._denied(context, req.create_request)
                    if denied:
                        hub.reject(stream, denied)
                    else:
                        hub.create(stream, req.create_request)
                elif kind == "cancel_request":
                    hub.cancel(stream, req.cancel_request.watch_id)
                elif kind == "progress_request":
                    hub.request_progress(stream)
                # nothing set: ignored, as etcd
        finally:
            bell.ring()  # let the sender notice errors

    async def _ticker(self, stream: WatchStream, interval: float) -> None:
        while True:
            await asyncio.sleep(interval + random.uniform(0, interval / 10))  # etcd adds <= 10 % jitter
            self._hub.progress_tick(stream)


class _Bell:
    """A sender's wake-up flag: ``ring`` marks it and resolves the pending ``wait``.

    Cheaper than ``asyncio.Event`` on the per-message path: one future per wait,
    no waiter deque. The sender clears ``rung`` before it looks for work, so a
    ring that arrives while it works is not lost.
    """

    __slots__ = ("_fut", "_loop", "rung")

    def __init__(self) -> None:
        """Create it on the loop that will wait on it."""
        self.rung = False
        self._loop = asyncio.get_running_loop()
        self._fut: asyncio.Future[None] | None = None

    def ring(self) -> None:
        self.rung = True
        fut = self._fut
        if fut is not None:
            self._fut = None
            if not fut.done():
                fut.set_result(None)

    def wait(self) -> asyncio.Future[None]:
        """A future resolved by the next ``ring`` (await it)."""
        fut: asyncio.Future[None] = asyncio.Future(loop=self._loop)
        self._fut = fut
        return fut


class _BadRequest(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _identity(data: bytes) -> bytes:
    return data


def _parse_request(data: bytes) -> rpc_pb2.WatchRequest | Malformed:
    try:
        return rpc_pb2.WatchRequest.FromString(data)
    except DecodeError:
        return Malformed("unexpected EOF")


def add_watch_servicer(servicer: WatchServicer, server: grpc.aio.Server) -> None:
    """Register ``servicer`` so that it sends pre-encoded responses."""
    servicer.raw_responses = True
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.Watch,
        request_deserializer=_parse_request,
        response_serializer=_identity,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("etcdserverpb.Watch", {"Watch": handler}),))


class _ServerWithHub(ServerInfo, Protocol):
    @property
    def hub(self) -> WatchHub: ...


def register(server: _ServerWithHub, grpc_server: grpc.aio.Server) -> WatchServicer:
    """Build the Watch service for ``server`` (which owns ``server.hub``) and register it."""
    servicer = WatchServicer(server, server.hub)
    add_watch_servicer(servicer, grpc_server)
    return servicer
