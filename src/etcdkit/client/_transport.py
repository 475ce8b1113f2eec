"""Channels, endpoint failover, auth tokens and retries for unary calls.

Retry contract (``call``):

* a call first waits for its endpoint's channel to be READY (bounded by
  ``dial_timeout``); failing that, the request was never sent, so reads
  *and* writes move on to the next endpoint;
* once sent, a call that fails with UNAVAILABLE (or an etcd "unavailable"
  error such as ``no leader``) is retried on the next endpoint only when it
  is idempotent (reads, read-only txns); writes raise, because the server
  may have applied them;
* a read answered below the revision floor *as it was when the call
  started* is retried elsewhere (a read that overlaps a write acknowledged
  meanwhile may rightly answer from before that write: only an answer older
  than what this client had already seen moves time backwards);
* "invalid auth token" re-authenticates and retries once on the same
  endpoint (etcd checks the token before proposing, so nothing was applied);
* one deadline (``request_timeout``) bounds the whole call, retries included;
* when every endpoint failed, ``ClusterError`` lists each one's error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.client import _fork
from etcdkit.client._fork import channel_closed, channel_opened, check_aio_usable
from etcdkit.client._protocol.connection import ConnectionState, ConnectionTracker
from etcdkit.client._protocol.endpoints import EndpointPicker, RevisionFloor
from etcdkit.client.config import ClientConfig
from etcdkit.client.exceptions import (
    ClientClosedError,
    ClusterError,
    DeadlineExceededError,
    EtcdError,
    MessageTooLargeError,
    RequestCanceledError,
    ServerUnavailableError,
    UnavailableError,
    UnknownServerError,
)
from etcdkit.client.server_errors import (
    AuthNotEnabledError,
    InvalidAuthTokenError,
    UserEmptyError,
    error_for_message,
)

__all__ = ["Stubs", "Transport", "channel_args", "map_rpc_error", "never_sent"]

R = TypeVar("R")
Metadata = tuple[tuple[str, str], ...]

_NEVER_SENT_HINTS = ("failed to connect to all addresses", "Connection refused", "connections to all backends failing")


class Stubs:
    """The raw stubs of one channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.kv = rpc_pb2_grpc.KVStub(channel)
        self.watch = rpc_pb2_grpc.WatchStub(channel)
        self.lease = rpc_pb2_grpc.LeaseStub(channel)
        self.cluster = rpc_pb2_grpc.ClusterStub(channel)
        self.maintenance = rpc_pb2_grpc.MaintenanceStub(channel)
        self.auth = rpc_pb2_grpc.AuthStub(channel)


class _StaleRead(UnavailableError):
    """A member answered below the revision floor."""


def map_rpc_error(exc: grpc.RpcError, endpoint: str) -> EtcdError:
    """Turn a gRPC error into the client's exception tree."""
    code: grpc.StatusCode = exc.code()
    details: str = exc.details() or ""
    err = error_for_message(details, endpoint, code.name)
    if type(err) is not UnknownServerError:
        return err
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceededError(f"{endpoint}: deadline exceeded")
    if code is grpc.StatusCode.CANCELLED:
        return RequestCanceledError(f"{endpoint}: {details or 'cancelled'}")
    if code is grpc.StatusCode.UNAVAILABLE:
        return UnavailableError(details or "unavailable", endpoint)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in details:
        return MessageTooLargeError(f"{endpoint}: {details}")
    return err


def never_sent(err: EtcdError) -> bool:
    """True when the error proves the request never reached a server."""
    return isinstance(err, UnavailableError) and any(h in str(err) for h in _NEVER_SENT_HINTS)


class Transport:
    """Owns one channel per endpoint, the endpoint picker, tokens and connection state."""

    def __init__(self, config: ClientConfig, on_state: Callable[[ConnectionState], None]) -> None:
        self.config = config
        self.picker = EndpointPicker(config.endpoints)
        self.floor = RevisionFloor()
        self.tracker = ConnectionTracker(config.lost_timeout)
        self._on_state = on_state
        self._stubs: dict[str, Stubs] = {}
        self._tokens: dict[str, str] = {}
        self._auth_locks: dict[str, asyncio.Lock] = {}
        self._closed = False
        self.pid = os.getpid()

    # --- lifecycle ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("client is closed")
        if os.getpid() != self.pid:
            raise ClientClosedError("client was created before fork(); create a new client in this process")

    async def close(self) -> None:
        self._closed = True
        stubs, self._stubs = self._stubs, {}
        for s in stubs.values():
            await s.channel.close(None)
            channel_closed()

    # --- state -------------------------------------------------------------------

    def report(self, ok: bool) -> None:
        now = time.monotonic()
        changed = self.tracker.success(now) if ok else self.tracker.failure(now)
        if changed is not None:
            self._on_state(changed)

    # --- channels ----------------------------------------------------------------

    async def _renew(self, endpoint: str, failing: Stubs) -> Stubs:
        """Replace ``failing`` (if still current) with a fresh channel; close the old one."""
        if self._stubs.get(endpoint) is failing:
            del self._stubs[endpoint]
            await failing.channel.close(None)
            channel_closed()
        return self.stubs(endpoint)

    def stubs(self, endpoint: str) -> Stubs:
        self.check_open()
        s = self._stubs.get(endpoint)
        if s is None:
            check_aio_usable()  # a child forked while grpc.aio was live: fail now, not hang
            s = Stubs(self._make_channel(endpoint))
            channel_opened()
            self._stubs[endpoint] = s
        return s

    def _make_channel(self, endpoint: str) -> grpc.aio.Channel:
        options, creds = channel_args(self.config)
        if creds is None:
            return grpc.aio.insecure_channel(endpoint, options=options)
        return grpc.aio.secure_channel(endpoint, creds, options=options)

    async def wait_ready(self, endpoint: str, timeout: float) -> Stubs:
        """Return the endpoint's stubs once its channel is READY; ``UnavailableError`` otherwise."""
        stubs = self.stubs(endpoint)
        ch = stubs.channel
        deadline = time.monotonic() + timeout
        attempted = renewed = False
        while True:
            state = ch.get_state(try_to_connect=True)
            if state is grpc.ChannelConnectivity.READY:
                return stubs
            if state is grpc.ChannelConnectivity.SHUTDOWN:
                self.check_open()  # closed client: ClientClosedError; else another call renewed it
                if self._stubs.get(endpoint) is stubs:
                    raise ClientClosedError("channel closed")
                stubs = self.stubs(endpoint)
                ch = stubs.channel
                continue
            if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE and not renewed:
                # A failed channel reconnects only after gRPC's backoff (up to 1 s), which may
                # outlast the dial timeout after a server restart: start a fresh channel, which
                # connects at once. Nothing was sent on this endpoint yet, so this is safe.
                stubs = await self._renew(endpoint, stubs)
                ch = stubs.channel
                renewed = True
                continue
            if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE and attempted:
                raise UnavailableError("failed to connect to all addresses (connect failed)", endpoint)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnavailableError(f"failed to connect to all addresses within {timeout}s (dial timeout)", endpoint)
            # A channel already failing is in gRPC's reconnect backoff (at most 1 s here):
            # give it one chance to try again, then report the failure.
            wait = min(remaining, 1.0) if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ch.wait_for_state_change(state), wait)
            attempted = True

    # --- auth --------------------------------------------------------------------

    async def metadata(self, endpoint: str, stubs: Stubs, *, refresh: bool = False) -> Metadata:
        """Per-endpoint auth metadata. Tokens are member-local for etcd's simple tokens."""
        cfg = self.config
        if cfg.username is None or cfg.password is None:
            return ()
        lock = self._auth_locks.setdefault(endpoint, asyncio.Lock())
        async with lock:
            if refresh or endpoint not in self._tokens:
                req = rpc_pb2.AuthenticateRequest(name=cfg.username, password=cfg.password)
                try:
                    resp = await stubs.auth.Authenticate(req, timeout=cfg.dial_timeout + (cfg.request_timeout or 10.0))
                except grpc.RpcError as e:
                    err = map_rpc_error(e, endpoint)
                    if isinstance(err, AuthNotEnabledError):
                        # Auth is off on the server: no token needed (yet).
                        self._tokens[endpoint] = ""
                        return ()
                    raise err from None
                self._tokens[endpoint] = resp.token
            token = self._tokens[endpoint]
            return (("token", token),) if token else ()

    # --- unary calls ---------------------------------------------------------------

    async def call(
        self,
        fn: Callable[[Stubs, float | None, Metadata], Awaitable[R]],
        *,
        idempotent: bool,
        revision_of: Callable[[R], int] | None = None,
        timeout: float | None = None,
    ) -> R:
        """Run one unary call with failover as described in the module docstring.

        ``fn(stubs, timeout, metadata)`` issues the call and returns its
        awaitable (a gRPC call object or a coroutine); ``timeout`` is the time
        left before the deadline, for gRPC's own ``timeout=``.

        Hot path (the current endpoint's channel is READY, its token known):
        no extra coroutine, task or ``wait_for`` per call — one connectivity
        check, the stub call, the floor check and two comparisons.
        """
        if self._closed or _fork.pid != self.pid:  # _fork.pid: os.getpid() without a system call
            self.check_open()
        budget = timeout if timeout is not None else self.config.request_timeout
        deadline = None if budget is None else time.monotonic() + budget
        errors: dict[str, BaseException] = {}
        floor = self.floor
        seen = floor.revision  # what this client had observed before the call started
        for endpoint in self.picker.order():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceededError(f"request timed out after {budget}s ({len(errors)} endpoints tried)")
            try:
                stubs = self.ready_stubs(endpoint)
                if stubs is None:
                    dial = self.config.dial_timeout if remaining is None else min(self.config.dial_timeout, remaining)
                    stubs = await self.wait_ready(endpoint, dial)
                md = self.cached_metadata(endpoint)
                if md is None:
                    md = await self.metadata(endpoint, stubs)
                refreshed = False
                while True:
                    left = None if deadline is None else max(0.001, deadline - time.monotonic())
                    try:
                        result = await fn(stubs, left, md)
                        break
                    except grpc.RpcError as e:
                        err = map_rpc_error(e, endpoint)
                    if (
                        isinstance(err, (InvalidAuthTokenError, UserEmptyError))
                        and self.config.username
                        and not refreshed
                    ):
                        # etcd checks the token before proposing: nothing was applied, retry once.
                        refreshed = True
                        md = await self.metadata(endpoint, stubs, refresh=True)
                        continue
                    if isinstance(err, UnavailableError):
                        self.call_unavailable(stubs)
                    raise err
            except UnavailableError as err:
                # Includes dial failures: those never sent anything.
                retry = idempotent or never_sent(err) or isinstance(err, _StaleRead)
                self._failed(endpoint, err, errors)
                if not retry:
                    raise
                continue
            except ServerUnavailableError as err:
                self._failed(endpoint, err, errors)
                if not idempotent:
                    raise
                continue
            if revision_of is not None:
                rev = revision_of(result)
                if rev > floor.revision:
                    floor.revision = rev
                elif idempotent and 0 < rev < seen:  # RevisionFloor.is_stale against the floor at the start
                    stale = _StaleRead(f"answer at revision {rev} is below the floor {seen}", endpoint)
                    self._failed(endpoint, stale, errors)
                    continue
            self.picker.succeeded(endpoint)
            if self.tracker.state is not ConnectionState.CONNECTED:
                self.report(True)
            return result
        if deadline is not None and time.monotonic() >= deadline and not errors:
            raise DeadlineExceededError(f"request timed out after {budget}s")
        raise ClusterError(errors)

    def _failed(self, endpoint: str, err: BaseException, errors: dict[str, BaseException]) -> None:
        errors[endpoint] = err
        self.picker.failed(endpoint, err)
        self.report(False)

    # --- hot-path hooks (overridden by the blocking transport) ---------------------------

    def ready_stubs(self, endpoint: str) -> Stubs | None:
        """The endpoint's stubs if its channel is READY right now (no waiting), else None."""
        s = self._stubs.get(endpoint)
        if s is not None and s.channel.get_state() is grpc.ChannelConnectivity.READY:
            return s
        return None

    def cached_metadata(self, endpoint: str) -> Metadata | None:
        """The call metadata if known without I/O (no auth, or a token already fetched), else None."""
        if self.config.username is None or self.config.password is None:
            return ()
        token = self._tokens.get(endpoint)
        if token is None:
            return None
        return (("token", token),) if token else ()

    def call_unavailable(self, stubs: Stubs) -> None:
        """A call on ``stubs`` failed as unavailable (hook: the blocking transport re-checks connectivity)."""


def channel_args(cfg: ClientConfig) -> tuple[list[tuple[str, Any]], grpc.ChannelCredentials | None]:
    """gRPC channel options and credentials for ``cfg`` (shared by the async and sync transports)."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_send_message_length", cfg.max_send_bytes),
        ("grpc.max_receive_message_length", cfg.max_recv_bytes),
        # Fail fast and let us choose the next endpoint rather than gRPC's own backoff.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
        ("grpc.enable_retries", 0),
        # Our own subchannels: a renewed channel (see wait_ready) must dial afresh, not
        # inherit a shared subchannel that is still in gRPC's reconnect backoff.
        ("grpc.use_local_subchannel_pool", 1),
    ]
    if cfg.keepalive_time is not None:
        options += [
            ("grpc.keepalive_time_ms", int(cfg.keepalive_time * 1000)),
            ("grpc.keepalive_timeout_ms", int(cfg.keepalive_timeout * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
    if cfg.tls is None:
        return options, None
    t = cfg.tls
    if t.server_name:
        options.append(("grpc.ssl_target_name_override", t.server_name))
    creds = grpc.ssl_channel_credentials(
        root_certificates=_read(t.ca_file), private_key=_read(t.key_file), certificate_chain=_read(t.cert_file)
    )
    return options, creds


def _read(path: str | None) -> bytes | None:
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()
