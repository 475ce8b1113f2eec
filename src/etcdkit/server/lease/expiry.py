"""The expiry driver: the async task that turns expired leases into revokes.

The lessor only *detects* expiry; this driver asks it for expired leases and
revokes each one through the server's log (``LeaseRevoker.lease_revoke``), so
the attached keys are deleted in one revision with watch events, exactly like a
client's LeaseRevoke. At most ``rate`` revokes are started per second (etcd's
``leaseRevokeRate`` = 1000/s), so a mass expiry cannot starve client writes.

A revoke that fails (server stopping, a transient error) is simply retried: the
lessor hands the lease out again after its ``retry_interval``. A revoke that
finds the lease already gone (a client revoked it first) is not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from etcdkit.api import errors
from etcdkit.api.pb import rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.lessor import Lessor

__all__ = ["ExpiryDriver", "LeaseRevoker", "start_expiry"]

log = logging.getLogger(__name__)


class LeaseRevoker(Protocol):
    """What the driver needs from the server: a revoke that goes through the log."""

    async def lease_revoke(self, req: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse: ...


class ExpiryHost(LeaseRevoker, Protocol):
    """A server that owns a lessor and runs background tasks for its lifetime."""

    lessor: Lessor

    def add_task(self, coro: Any, name: str) -> None: ...


def start_expiry(server: ExpiryHost, *, rate: int = 1000) -> ExpiryDriver:
    """Run an :class:`ExpiryDriver` for ``server.lessor`` as one of the server's
    tasks (cancelled when the server stops); called by the member at start."""
    driver = ExpiryDriver(server.lessor, server, server.lessor.clock, rate=rate)
    server.add_task(driver.run(), "lease-expiry")
    return driver


class ExpiryDriver:
    """Revokes expired leases of ``lessor`` through ``revoker`` at a bounded rate.

    ``clock`` must be the lessor's clock. ``max_sleep`` bounds how late an
    expiry can be noticed (a lease granted while the driver sleeps is not
    announced to it); etcd checks every 500 ms, we default to 100 ms.
    """

    def __init__(
        self,
        lessor: Lessor,
        revoker: LeaseRevoker,
        clock: Callable[[], float],
        *,
        rate: int = 1000,
        max_sleep: float = 0.1,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._lessor = lessor
        self._revoker = revoker
        self._clock = clock
        self._rate = rate
        self._max_sleep = max_sleep
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self.revoked = 0
        """Number of leases this driver revoked (a metric and a test hook)."""

    def start(self) -> None:
        """Start :meth:`run` as a task on the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="lease-expiry")

    async def stop(self) -> None:
        """Stop the task started by :meth:`start` (and the revokes it has in flight)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Revoke expired leases until cancelled; cancelling also cancels the
        revokes in flight (they are retried by whoever runs next)."""
        # One tick may start up to rate * tick revokes; ticks are max_sleep long
        # while leases are expiring, so the long-run rate is bounded by ``rate``.
        tick = self._max_sleep
        budget = max(1, int(self._rate * tick))
        loop = asyncio.get_running_loop()
        try:
            while True:
                batch = self._lessor.expired(limit=budget)
                for lease_id in batch:
                    task = loop.create_task(self._revoke(lease_id), name=f"lease-revoke-{lease_id:x}")
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                await asyncio.sleep(self._delay(full=len(batch) >= budget))
        finally:
            pending = list(self._inflight)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    def _delay(self, *, full: bool) -> float:
        if full:
            return self._max_sleep
        nxt = self._lessor.next_deadline()
        if nxt is None:
            return self._max_sleep
        return min(self._max_sleep, max(0.001, nxt - self._clock()))

    async def _revoke(self, lease_id: int) -> None:
        try:
            await self._revoker.lease_revoke(rpc_pb2.LeaseRevokeRequest(ID=lease_id))
            self.revoked += 1
        except EtcdServerError as err:
            if err.wire is not errors.LEASE_NOT_FOUND:
                log.warning("revoking expired lease %x failed: %s (will retry)", lease_id, err)
        except Exception:  # the driver must outlive any single failed revoke
            log.exception("revoking expired lease %x failed (will retry)", lease_id)
