"""``AsyncLock``: etcd's distributed mutex, interoperable with clientv3 and etcd's Lock service.

Usage::

    async with AsyncSession.create(client, ttl=10) as session:  # (await it first)
        lock = AsyncLock(session, "jobs/nightly")
        async with lock:                    # raises LockNotAcquiredError on timeout
            write_somewhere(fence=lock.fencing_token)

Contract (layout in ``core.mutex``):

* ``acquire(timeout=None) -> bool``: True once held; False when ``timeout``
  passed first (the queued key is then removed). Raises ``SessionLostError``
  if the session is lost before or while waiting. Fair: holders are served
  in the order their keys were created;
* the enqueue txn is idempotent (the key name is derived from the lease), so
  after an ambiguous failure (timeout, broken connection) ``acquire`` simply
  retries it, within the same deadline, and finds its own key;
* ``fencing_token`` is the key's create revision; it increases across holders;
* ``held`` is False once the session is lost: the server may have deleted
  the key, and another holder may own the lock;
* one session holds a given name at most once (the key is per lease, as in
  clientv3): two ``AsyncLock`` objects with the same session and name share it;
* ``release()`` deletes the key (no error if it is already gone).
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Self

from etcdkit.client import DeadlineExceededError, EtcdError, UnavailableError
from etcdkit.recipes._queue import TurnTimeout, wait_turn
from etcdkit.recipes.core.mutex import (
    Contender,
    abandon_txn,
    campaign_outcome,
    contender_key,
    enqueue_txn,
    name_prefix,
)
from etcdkit.recipes.core.session import SessionState
from etcdkit.recipes.errors import LockNotAcquiredError, LockNotHeldError
from etcdkit.recipes.session import AsyncSession

__all__ = ["AMBIGUOUS", "AsyncLock", "enqueue"]

log = logging.getLogger("etcdkit.recipes.lock")

# Errors after which a write may or may not have been applied: safe to retry the idempotent enqueue.
AMBIGUOUS = (DeadlineExceededError, UnavailableError)


async def enqueue(session: AsyncSession, prefix: bytes, value: bytes, deadline: float | None) -> Contender:
    """Run the enqueue txn until it answers; return where we stand."""
    key = contender_key(prefix, session.lease)
    delay = 0.05
    while True:
        session.check()
        try:
            resp = await session.client.txn(enqueue_txn(prefix, key, value, session.lease))
        except AMBIGUOUS:
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            continue
        return campaign_outcome(key, value, resp)


class AsyncLock:
    """A distributed mutex named ``name`` held through ``session``."""

    def __init__(self, session: AsyncSession, name: bytes | str, *, timeout: float | None = None) -> None:
        self.session = session
        self.prefix = name_prefix(name)
        self.timeout = timeout  # used by ``async with``
        self.key = contender_key(self.prefix, session.lease_id)
        self._revision = 0

    @property
    def fencing_token(self) -> int:
        """The lock key's create revision while held; raises ``LockNotHeldError`` otherwise."""
        if not self.held:
            raise LockNotHeldError(f"lock {self.prefix!r} is not held")
        return self._revision

    @property
    def held(self) -> bool:
        """True while acquired and the session is not lost."""
        return self._revision != 0 and self.session.state is not SessionState.LOST and not self.session.closed

    async def acquire(self, timeout: float | None = None) -> bool:
        """Wait for the lock; True once held, False if ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            c = await enqueue(self.session, self.prefix, b"", deadline)
        except AMBIGUOUS:
            if deadline is None:
                raise
            await self._give_up(0)  # the enqueue may have happened
            return False
        return await self._queued(c, deadline)

    async def _queued(self, c: Contender, deadline: float | None) -> bool:
        """Finish an acquire whose enqueue txn answered ``c``: wait for our turn, then hold.

        ``deadline`` is on ``time.monotonic()``. Same results as ``acquire``.
        """
        rev = c.revision
        try:
            if not c.owns:
                await wait_turn(self.session.client, self.session, self.prefix, c.key, rev, deadline, c.blockers)
        except TurnTimeout:
            await self._give_up(rev)
            return False
        except BaseException:
            await self._give_up(rev)
            raise
        self._revision = rev
        return True

    def _took(self, c: Contender) -> None:
        """Record that the enqueue txn answered ``c`` and ``c`` owns the lock (held from now on).

        ``_took``, ``_waited`` and ``_handed_back`` are for the blocking ``Lock``, which runs the
        enqueue, the wait and the release itself, in the calling thread."""
        if not c.owns:
            raise ValueError("contender does not own the lock")
        self._revision = c.revision

    def _waited(self, c: Contender) -> None:
        """Record that ``c`` (queued behind others) waited for its turn and holds the lock now."""
        self._revision = c.revision

    def _handed_back(self) -> int:
        """Forget the holding without deleting anything; return the revision to delete (0: unknown)."""
        rev, self._revision = self._revision, 0
        return rev

    async def release(self) -> None:
        """Delete the lock key (a no-op if it is already gone).

        Also removes a queued key that a failed or timed-out ``acquire`` could not remove
        (the cluster was unreachable): until then, or until the session ends, it holds
        later waiters back.
        """
        await self._abandon(self._handed_back())

    async def _give_up(self, rev: int) -> None:
        try:
            await self._abandon(rev)
        except EtcdError as e:
            log.warning("could not remove queued lock key %r (%s); release() or the session's end will", self.key, e)

    async def _abandon(self, rev: int) -> None:
        await self.session.client.txn(abandon_txn(self.key, rev))

    async def __aenter__(self) -> Self:
        if not await self.acquire(self.timeout):
            raise LockNotAcquiredError(f"lock {self.prefix!r} not acquired within {self.timeout}s")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()
