"""The transport of the blocking client's unary calls: same policy, blocking gRPC underneath.

``Transport.call`` (failover, retries, deadline, auth refresh, revision
floor) is written once, as a coroutine. Here its three I/O points —
``wait_ready``, ``metadata`` and the stub call inside ``fn`` — are
replaced by blocking versions that never suspend, so the *same* coroutine
runs to completion on the caller's thread with one ``send(None)``
(``drive``). No event loop, no thread hop: the blocking client is as fast as
a bare synchronous gRPC stub, and still has a single source of truth.

Streams (watch, lease keep-alive, snapshot) are not unary; the blocking
client runs those on its event-loop thread through the ``AsyncClient``.
The endpoint picker, revision floor and connection tracker are shared with
that ``AsyncClient``'s transport, so both see one cluster state.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar, cast

import grpc

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.client._transport import Metadata, Stubs, Transport, channel_args, map_rpc_error
from etcdkit.client.exceptions import ClientClosedError, UnavailableError
from etcdkit.client.server_errors import AuthNotEnabledError

__all__ = ["SyncTransport", "drive"]

# grpc's connectivity enum <-> the core channel's integer codes.
_CONNECTIVITY: dict[int, grpc.ChannelConnectivity] = {c.value[0]: c for c in grpc.ChannelConnectivity}
_CODE: dict[grpc.ChannelConnectivity, int] = {c: c.value[0] for c in grpc.ChannelConnectivity}

R = TypeVar("R")


def drive(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine whose awaits never suspend; its result or exception comes back here."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return cast(R, stop.value)
    coro.close()
    raise RuntimeError("a blocking-client call tried to suspend (an asyncio object reached the sync path)")


class _Done:
    """An awaitable that is already complete."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, object]:
        return self.value
        yield  # pragma: no cover - makes this a generator


class _Service:
    """A blocking stub whose unary methods return completed awaitables."""

    def __init__(self, stub: object) -> None:
        self._stub = stub

    def __getattr__(self, name: str) -> Callable[..., _Done]:
        method = getattr(self._stub, name)

        def call(request: object, timeout: float | None = None, metadata: Metadata | None = None) -> _Done:
            return _Done(method(request, timeout=timeout, metadata=metadata))

        setattr(self, name, call)  # later lookups find it without __getattr__
        return call


class _SyncStubs:
    """Blocking stubs of one channel, and the channel's connectivity as gRPC reports it."""

    def __init__(self, channel: grpc.Channel, endpoint: str = "") -> None:
        self.channel = channel
        self.endpoint = endpoint
        self.kv = _Service(rpc_pb2_grpc.KVStub(channel))
        self.lease = _Service(rpc_pb2_grpc.LeaseStub(channel))
        self.cluster = _Service(rpc_pb2_grpc.ClusterStub(channel))
        self.maintenance = _Service(rpc_pb2_grpc.MaintenanceStub(channel))
        self.auth = _Service(rpc_pb2_grpc.AuthStub(channel))
        self.watch_stream = rpc_pb2_grpc.WatchStub(channel)  # raw: streams are read by their caller
        # True while calls on this channel work: no connectivity check needed then.
        self.known_ready = False

    def close(self) -> None:
        self.channel.close()


class SyncTransport(Transport):
    """``Transport`` with blocking, never-suspending I/O points. Thread-safe."""

    def __init__(self, shared: Transport) -> None:
        super().__init__(shared.config, shared._on_state)
        self.picker, self.floor, self.tracker = shared.picker, shared.floor, shared.tracker
        self._sync_stubs: dict[str, _SyncStubs] = {}
        self._lock = threading.Lock()  # guards _sync_stubs and _tokens

    async def close(self) -> None:
        self._closed = True
        with self._lock:
            stubs, self._sync_stubs = self._sync_stubs, {}
        if os.getpid() == self.pid:
            for s in stubs.values():
                s.close()

    def _sync(self, endpoint: str) -> _SyncStubs:
        self.check_open()
        with self._lock:
            s = self._sync_stubs.get(endpoint)
            if s is None:
                options, creds = channel_args(self.config)
                if creds is None:
                    ch = grpc.insecure_channel(endpoint, options=options)
                else:
                    ch = grpc.secure_channel(endpoint, creds, options=options)
                s = self._sync_stubs[endpoint] = _SyncStubs(ch, endpoint)
            return s

    async def wait_ready(self, endpoint: str, timeout: float) -> Stubs:
        stubs = self._sync(endpoint)
        if stubs.known_ready:
            return cast(Stubs, stubs)
        # grpc's public way to watch connectivity (``subscribe``) runs a polling
        # thread that can outlive ``unsubscribe`` and touch a closed channel, and
        # makes fork() less safe. The channel's own blocking calls need no thread.
        core: Any = getattr(stubs.channel, "_channel", None)
        if core is None or not hasattr(core, "watch_connectivity_state"):  # pragma: no cover - other grpc
            return cast(Stubs, stubs)  # the call itself will fail fast if it cannot connect
        deadline = time.monotonic() + timeout
        attempted = False
        while True:
            state = _CONNECTIVITY[core.check_connectivity_state(True)]
            if state is grpc.ChannelConnectivity.READY:
                stubs.known_ready = True
                return cast(Stubs, stubs)
            if state is grpc.ChannelConnectivity.SHUTDOWN:
                raise ClientClosedError("channel closed")
            if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE and attempted:
                raise UnavailableError("failed to connect to all addresses (connect failed)", endpoint)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(f"failed to connect to all addresses within {timeout}s (dial timeout)", endpoint)
            if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE:
                remaining = min(remaining, 1.0)  # gRPC's reconnect backoff is at most 1 s here
            core.watch_connectivity_state(_CODE[state], time.time() + remaining)
            attempted = True

    def ready_stubs(self, endpoint: str) -> Stubs | None:
        s = self._sync_stubs.get(endpoint)
        if s is not None and s.known_ready and not self._closed:
            return cast(Stubs, s)
        return None

    def call_unavailable(self, stubs: Stubs) -> None:
        cast(_SyncStubs, stubs).known_ready = False  # re-check connectivity next time

    async def metadata(self, endpoint: str, stubs: Stubs, *, refresh: bool = False) -> Metadata:
        cfg = self.config
        if cfg.username is None or cfg.password is None:
            return ()
        with self._lock:
            token = self._tokens.get(endpoint)
        if refresh or token is None:
            req = rpc_pb2.AuthenticateRequest(name=cfg.username, password=cfg.password)
            try:
                auth: Any = rpc_pb2_grpc.AuthStub(stubs.channel)  # a blocking channel here
                resp = cast(rpc_pb2.AuthenticateResponse, auth.Authenticate(req, timeout=cfg.dial_timeout + 10.0))
                token = resp.token
            except grpc.RpcError as e:
                err = map_rpc_error(e, endpoint)
                if isinstance(err, UnavailableError):
                    self.call_unavailable(stubs)
                if not isinstance(err, AuthNotEnabledError):
                    raise err from None
                token = ""  # auth is off on the server: no token needed (yet)
            with self._lock:
                self._tokens[endpoint] = token
        return (("token", token),) if token else ()
