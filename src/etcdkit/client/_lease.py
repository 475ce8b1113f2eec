"""Lease API of ``AsyncClient`` and the background keep-alive (``LeaseKeeper``).

A keeper refreshes its lease every TTL/3 over a LeaseKeepAlive stream. If
the stream breaks it reconnects (next endpoint, with backoff) for as long as
the lease can still be alive. It reports loss — an answer with TTL 0, or the
lease's known lifetime passing without an answer — by setting ``lost``,
storing ``error`` (a ``LeaseKeepAliveLostError``) and calling ``on_lost``.
Closing a keeper stops refreshing; it does not revoke the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import grpc
import grpc.aio

from etcdkit.api.pb import rpc_pb2
from etcdkit.client._base import ClientBase
from etcdkit.client._convert import header
from etcdkit.client._fork import check_aio_usable
from etcdkit.client._protocol.keepalive import KeepAliveSchedule
from etcdkit.client._transport import Metadata, Stubs, Transport, map_rpc_error
from etcdkit.client.exceptions import ClientClosedError, EtcdError, LeaseKeepAliveLostError
from etcdkit.client.server_errors import InvalidAuthTokenError
from etcdkit.client.types import LeaseGrant, LeaseTimeToLive

__all__ = ["LeaseKeeper", "LeaseMixin"]

log = logging.getLogger("etcdkit.client.lease")


class LeaseKeeper:
    """Keeps one lease alive in a background task until closed or lost."""

    def __init__(
        self, transport: Transport, lease_id: int, ttl: int, on_lost: Callable[[LeaseKeepAliveLostError], None] | None
    ) -> None:
        check_aio_usable()  # the keeper's stream is asyncio: in a child forked while it was live, fail now
        self.lease_id = lease_id
        self.ttl = ttl
        self.lost = asyncio.Event()
        self.error: LeaseKeepAliveLostError | None = None
        self.renewals = 0
        self._transport = transport
        self._on_lost = on_lost
        self._closing = False
        self._refresh_token = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"etcdkit-keepalive-{lease_id:x}")

    @property
    def alive(self) -> bool:
        return not self.lost.is_set() and not self._task.done()

    async def close(self) -> None:
        """Stop refreshing (the lease then expires after its TTL unless revoked)."""
        self._closing = True  # cancel() alone can be swallowed by wait_for on 3.11
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def wait_lost(self) -> LeaseKeepAliveLostError:
        """Wait until the lease is lost; return the error describing why."""
        await self.lost.wait()
        assert self.error is not None
        return self.error

    async def _run(self) -> None:
        sched = KeepAliveSchedule(self.ttl, time.monotonic())
        tr = self._transport
        delay = 0.05
        while sched.lost_reason is None and not tr.closed and not self._closing:
            endpoint = tr.picker.current
            try:
                await self._stream(tr, endpoint, sched)
            except Exception as e:  # any failure means "reconnect while the lease may live"
                err = map_rpc_error(e, endpoint) if isinstance(e, grpc.RpcError) else e
                if isinstance(err, ClientClosedError):
                    return
                self._refresh_token = isinstance(err, InvalidAuthTokenError)
                log.debug("keep-alive stream for %x on %s failed: %s", self.lease_id, endpoint, err)
                tr.picker.failed(endpoint, err)
                tr.report(False)
                wait = min(delay, max(0.0, sched.expires_at - time.monotonic()))
                delay = min(delay * 2, 1.0)
                await asyncio.sleep(wait)
                sched.check_expired(time.monotonic())
        if sched.lost_reason is not None and not self._closing:
            self.error = LeaseKeepAliveLostError(self.lease_id, sched.lost_reason)
            self.lost.set()
            if self._on_lost is not None:
                self._on_lost(self.error)

    async def _stream(self, tr: Transport, endpoint: str, sched: KeepAliveSchedule) -> None:
        remaining = max(0.05, sched.expires_at - time.monotonic())
        stubs = await tr.wait_ready(endpoint, min(tr.config.dial_timeout, remaining))
        md = await tr.metadata(endpoint, stubs, refresh=self._refresh_token)
        self._refresh_token = False
        call = stubs.lease.LeaseKeepAlive(metadata=md)  # type: ignore[call-arg]
        answered = asyncio.Event()

        async def reader() -> None:
            async for resp in call:
                sched.answered(resp.TTL, time.monotonic())
                self.renewals += 1
                tr.report(True)
                answered.set()

        read_task = asyncio.get_running_loop().create_task(reader())
        try:
            while not self._closing:
                now = time.monotonic()
                if sched.check_expired(now):
                    return
                if read_task.done():
                    read_task.result()  # raises the stream's error
                    raise EtcdError("keep-alive stream ended")
                if sched.due(now):
                    await call.write(rpc_pb2.LeaseKeepAliveRequest(ID=self.lease_id))
                    sched.sent(now)
                answered.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(answered.wait(), max(0.01, sched.wait_time(time.monotonic())))
        finally:
            call.cancel()
            read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.RpcError, EtcdError):
                await read_task


class LeaseMixin(ClientBase):
    """Lease calls; ``keep_alive`` starts a ``LeaseKeeper``."""

    async def lease_grant(self, ttl: int, *, lease_id: int = 0) -> LeaseGrant:
        """Grant a lease of ``ttl`` seconds (``lease_id`` 0: the server picks the ID)."""
        req = rpc_pb2.LeaseGrantRequest(TTL=ttl, ID=lease_id)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.LeaseGrantResponse:
            return await s.lease.LeaseGrant(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=False)
        return LeaseGrant(header(r.header), r.ID, r.TTL)

    async def lease_revoke(self, lease_id: int) -> None:
        """Revoke a lease and delete its keys."""
        req = rpc_pb2.LeaseRevokeRequest(ID=lease_id)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.LeaseRevokeResponse:
            return await s.lease.LeaseRevoke(req, timeout=t, metadata=md)

        await self._transport.call(fn, idempotent=False)

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLive:
        """Remaining TTL (-1 when the lease does not exist) and optionally its keys."""
        req = rpc_pb2.LeaseTimeToLiveRequest(ID=lease_id, keys=keys)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.LeaseTimeToLiveResponse:
            return await s.lease.LeaseTimeToLive(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=True)
        return LeaseTimeToLive(header(r.header), r.ID, r.TTL, r.grantedTTL, tuple(self._ns.strip(k) for k in r.keys))

    async def leases(self) -> tuple[int, ...]:
        """IDs of every lease."""

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.LeaseLeasesResponse:
            return await s.lease.LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=True)
        return tuple(lease.ID for lease in r.leases)

    async def keep_alive(
        self, lease_id: int, ttl: int, *, on_lost: Callable[[LeaseKeepAliveLostError], None] | None = None
    ) -> LeaseKeeper:
        """Start keeping ``lease_id`` (granted with ``ttl``) alive in the background."""
        self._transport.check_open()
        return LeaseKeeper(self._transport, lease_id, ttl, on_lost)
