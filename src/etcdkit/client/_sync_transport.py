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
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, TypeVar, cast

import grpc

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.client._transport import Metadata, Stubs, Transport, channel_args, map_rpc_error
from etcdkit.client.exceptions import ClientClosedError, UnavailableError
from etcdkit.client.server_errors import AuthNotEnabledError

__all__ = ["SyncTransport", "drive"]

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

        return call


class _SyncStubs:
    """Blocking stubs of one channel, and the channel's connectivity as gRPC reports it."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.kv = _Service(rpc_pb2_grpc.KVStub(channel))
        self.lease = _Service(rpc_pb2_grpc.LeaseStub(channel))
        self.cluster = _Service(rpc_pb2_grpc.ClusterStub(channel))
        self.maintenance = _Service(rpc_pb2_grpc.MaintenanceStub(channel))
        self.auth = _Service(rpc_pb2_grpc.AuthStub(channel))
        self.cond = threading.Condition()  # guards state and reports
        self.state: grpc.ChannelConnectivity | None = None
        self.reports = 0
        # True while calls on this channel work: then no connectivity watch is needed.
        # (Watching spawns a gRPC polling thread, and a fork() while such a thread
        # runs can crash the child inside gRPC; so we watch only while connecting.)
        self.known_ready = False

    def current(self) -> grpc.ChannelConnectivity | None:
        """The last reported state (call with ``cond`` held)."""
        return self.state

    def on_change(self, state: grpc.ChannelConnectivity) -> None:
        with self.cond:
            self.state = state
            self.reports += 1
            self.cond.notify_all()

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
                s = self._sync_stubs[endpoint] = _SyncStubs(ch)
            return s

    async def wait_ready(self, endpoint: str, timeout: float) -> Stubs:
        stubs = self._sync(endpoint)
        if stubs.known_ready:
            return cast(Stubs, stubs)
        ready, failed = grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.TRANSIENT_FAILURE
        stubs.channel.subscribe(stubs.on_change, try_to_connect=True)
        try:
            with stubs.cond:
                deadline = time.monotonic() + timeout
                first = stubs.reports
                while True:
                    state = stubs.current()
                    if state is ready:
                        stubs.known_ready = True
                        return cast(Stubs, stubs)
                    if state is grpc.ChannelConnectivity.SHUTDOWN:
                        raise ClientClosedError("channel closed")
                    # gRPC first reports the current state; a TRANSIENT_FAILURE reported
                    # after that is a connection attempt of ours that failed.
                    if state is failed and stubs.reports > first + 1:
                        raise UnavailableError("failed to connect to all addresses (connect failed)", endpoint)
                    remaining = deadline - time.monotonic()
                    if state is failed:
                        remaining = min(remaining, 1.0)  # gRPC's reconnect backoff is at most 1 s here
                    if remaining <= 0:
                        why = "(connect failed)" if state is failed else f"within {timeout}s (dial timeout)"
                        raise UnavailableError(f"failed to connect to all addresses {why}", endpoint)
                    stubs.cond.wait(remaining)
                    if state is failed and stubs.current() is failed and stubs.reports == first + 1:
                        raise UnavailableError("failed to connect to all addresses (connect failed)", endpoint)
        finally:
            stubs.channel.unsubscribe(stubs.on_change)

    async def _call_once(
        self,
        endpoint: str,
        stubs: Stubs,
        fn: Callable[[Stubs, float | None, Metadata], Awaitable[R]],
        deadline: float | None,
    ) -> R:
        try:
            return await super()._call_once(endpoint, stubs, fn, deadline)
        except UnavailableError:
            cast(_SyncStubs, stubs).known_ready = False  # re-check connectivity next time
            raise

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
                if not isinstance(err, AuthNotEnabledError):
                    raise err from None
                token = ""  # auth is off on the server: no token needed (yet)
            with self._lock:
                self._tokens[endpoint] = token
        return (("token", token),) if token else ()
