"""``AsyncSession``: a lease kept alive in the background, with a local deadline.

Usage::

    session = await AsyncSession.create(client, ttl=10)
    session.add_listener(lambda state: print("session", state))
    lock = AsyncLock(session, "jobs/nightly")
    ...
    await session.close()          # revokes the lease: every key written with it goes

Contract:

* the keep-alive is the client's ``LeaseKeeper``; this shell watches it and
  feeds ``core.session.SessionCore`` (states CONNECTED / SUSPENDED / LOST);
* ``deadline`` never lies late: the server cannot expire the lease before it
  (renewals are dated at the start of the poll interval in which their
  answer was seen, minus one interval of slack);
* listeners run on the event loop, once per state change, and must not block;
* ``lease`` (and every recipe using the session) raises ``SessionLostError``
  once LOST and ``SessionClosedError`` once closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from etcdkit.client import AsyncClient, EtcdError, LeaseKeepAliveLostError, LeaseKeeper
from etcdkit.recipes.core.session import SessionCore, SessionState
from etcdkit.recipes.errors import SessionClosedError, SessionLostError

__all__ = ["AsyncSession", "SessionState"]

log = logging.getLogger("etcdkit.recipes.session")


class AsyncSession:
    """One lease and its keep-alive. Build with ``await AsyncSession.create(client, ttl)``."""

    def __init__(self, client: AsyncClient, core: SessionCore, keeper: LeaseKeeper, poll: float) -> None:
        self.client = client
        self._core = core
        self._keeper = keeper
        self._poll = poll
        self._listeners: list[Callable[[SessionState], None]] = []
        self._lost = asyncio.Event()
        self._closed = False
        self._seen_renewals = 0
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"etcdkit-session-{core.lease_id:x}")

    @classmethod
    async def create(
        cls, client: AsyncClient, ttl: int = 60, *, lease_id: int = 0, suspend_after: float | None = None
    ) -> AsyncSession:
        """Grant a lease of ``ttl`` seconds (etcd's minimum is 2) and start keeping it alive."""
        sent = time.monotonic()
        grant = await client.lease_grant(ttl, lease_id=lease_id)
        core = SessionCore(grant.id, grant.ttl, sent, suspend_after)
        keeper = await client.keep_alive(grant.id, grant.ttl)
        return cls(client, core, keeper, poll=min(0.25, grant.ttl / 20.0))

    # --- state -----------------------------------------------------------------------

    @property
    def lease_id(self) -> int:
        """The lease ID (for diagnostics; use ``lease`` to write with it)."""
        return self._core.lease_id

    @property
    def ttl(self) -> int:
        return self._core.ttl

    @property
    def state(self) -> SessionState:
        return self._core.state

    @property
    def deadline(self) -> float:
        """``time.monotonic()`` value before which the server cannot expire the lease."""
        return self._core.deadline

    def remaining(self) -> float:
        """Seconds the lease is known to live (0 once lost)."""
        return self._core.remaining(time.monotonic())

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def lease(self) -> int:
        """The lease ID, for writing keys bound to the session. Raises once lost or closed."""
        self.check()
        return self._core.lease_id

    def check(self) -> None:
        """Raise ``SessionClosedError`` or ``SessionLostError`` if the session cannot be used."""
        if self._closed:
            raise SessionClosedError(f"session {self._core.lease_id:x} is closed")
        changed = self._core.tick(time.monotonic())
        if changed:
            self._notify(changed)
        if self._core.state is SessionState.LOST:
            raise SessionLostError(self._core.lease_id, self._core.lost_reason or "lost")

    def add_listener(self, listener: Callable[[SessionState], None]) -> None:
        """Call ``listener(state)`` on every state change (on the event loop; must not block)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[SessionState], None]) -> None:
        self._listeners.remove(listener)

    async def wait_lost(self) -> SessionLostError:
        """Wait until the session is LOST; return the error describing why."""
        await self._lost.wait()
        return SessionLostError(self._core.lease_id, self._core.lost_reason or "lost")

    @property
    def lost_event(self) -> asyncio.Event:
        """Set once the session is LOST (for recipes racing work against loss)."""
        return self._lost

    # --- lifecycle ---------------------------------------------------------------------

    async def close(self, *, revoke: bool = True) -> None:
        """Stop the keep-alive and (by default) revoke the lease. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._keeper.close()
        if revoke and self._core.state is not SessionState.LOST:
            try:
                await self.client.lease_revoke(self._core.lease_id)
            except EtcdError as e:  # the lease then expires after its TTL
                log.debug("revoking session lease %x failed: %s", self._core.lease_id, e)
        if self._core.lost("session closed"):
            self._lost.set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- driving the core ----------------------------------------------------------------

    def _notify(self, state: SessionState) -> None:
        if state is SessionState.LOST:
            self._lost.set()
        for cb in list(self._listeners):
            try:
                cb(state)
            except Exception:
                log.exception("session listener failed")

    async def _run(self) -> None:
        core, keeper = self._core, self._keeper
        prev_poll = time.monotonic()
        while core.state is not SessionState.LOST:
            wait = min(self._poll, core.next_tick_in(time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(keeper.lost.wait(), max(0.0, wait))
            now = time.monotonic()
            if keeper.renewals > self._seen_renewals:
                # Answered somewhere in (prev_poll, now]; date it a poll earlier for slack.
                self._seen_renewals = keeper.renewals
                changed = core.renewed(prev_poll - self._poll)
                if changed:
                    self._notify(changed)
            prev_poll = now
            err: LeaseKeepAliveLostError | None = keeper.error
            changed = core.lost(err.reason) if err is not None else core.tick(now)
            if changed:
                self._notify(changed)
