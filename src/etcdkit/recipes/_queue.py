"""Waiting for one's turn under a lock/election prefix (shared by ``AsyncLock`` and ``AsyncElection``).

A contender owns the lock (leads) once every key created before its own
(its *blockers*) is gone. Keys created later get higher create revisions, so
the blocker set only shrinks while it waits. The enqueue txn already listed
the contenders, so ``wait_turn`` starts knowing its blockers, and waits in
one of two ways:

* **near the front** (at most ``NEAR`` blockers): watch the whole prefix
  from *now* (deletions only), read the blockers once (after the watch
  exists, so a deletion is seen by the read or by the watch), then strike
  each off as the watch reports its deletion. The last deletion hands the
  lock over with no read. The watch also reports the deletion of our own
  key (``SessionLostError`` / ``LockNotHeldError``). Every event of the
  watch is newer than our key, and a key deleted after ours was created can
  only come back with a higher create revision, so an event the read
  already reflected strikes off nothing that still blocks us;
* **further back**: clientv3's ``waitDeletes``: watch the newest blocker
  from now, read the blockers (and check our key) once the watch exists,
  wait for its deletion, read again. This costs one read on the hand-off
  but wakes one waiter per release: a prefix watch there would deliver every
  deletion to every waiter (n waiters, n events per release), which costs
  more than the read once a few waiters queue (measured: docs/benchmarks.md).

The watches start "now" on purpose: a watch starting at an older revision
joins etcd's "unsynced" watchers, served by a 100 ms loop, which would add up
to 100 ms to hand-offs under contention. The wait ends with
``SessionLostError`` if the session is lost, ``LockNotHeldError`` if our key
vanished otherwise, ``TurnTimeout`` at ``deadline``; transient failures (a
request timing out, a watch that cannot resume after a compaction) start
again from a fresh read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from typing import NoReturn, Protocol

from etcdkit.client import (
    AsyncClient,
    DeadlineExceededError,
    EventType,
    Get,
    GetResponse,
    KeyValue,
    Txn,
    TxnResponse,
    UnavailableError,
    Watch,
    WatchCompactedError,
    WatchError,
)
from etcdkit.recipes.core.mutex import NEAR, blockers
from etcdkit.recipes.errors import LockNotHeldError
from etcdkit.recipes.session import AsyncSession

log = logging.getLogger("etcdkit.recipes")

__all__ = [
    "AsyncTurnIO",
    "DeletionFeed",
    "TurnIO",
    "TurnTimeout",
    "blockers_in",
    "blockers_txn",
    "closing",
    "stop_tasks",
    "wait_turn",
    "wait_turn_with",
]


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait for them to end.

    Cancels again until each is done: on Python 3.11 ``asyncio.wait_for`` can swallow a
    cancellation that races with its inner wait finishing, which would leave a loop running.
    """
    for t in tasks:
        while not t.done():
            t.cancel()
            await asyncio.wait({t}, timeout=0.1)
    for t in tasks:
        if not t.cancelled() and t.exception() is not None:
            log.error("recipe task %s failed", t.get_name(), exc_info=t.exception())


@contextlib.asynccontextmanager
async def closing(watch: Watch) -> AsyncIterator[Watch]:
    """Close ``watch`` when the block ends."""
    try:
        yield watch
    finally:
        await watch.close()


class TurnTimeout(Exception):
    """The caller's own deadline passed while waiting (not a request timeout)."""


# Transient failures of the reads and watches below: retried (with backoff) until the deadline.
# A watch that could not resume after a stream failure (history compacted meanwhile) is
# retried the same way: the retry opens a new watch and reads again.
_TRANSIENT = (DeadlineExceededError, UnavailableError, WatchCompactedError)


class DeletionFeed(Protocol):
    """Deletions reported by a watch that exists (it was created before the blockers were read)."""

    async def until(self, gone: Callable[[list[bytes]], bool], deadline: float | None) -> None:
        """Pass the keys each response deleted to ``gone`` until it returns True.

        Raises ``TurnTimeout`` at ``deadline``, ``SessionLostError`` once the session is lost,
        whatever ``gone`` raises, and the watch's errors (transient ones: ``_TRANSIENT``).
        """
        ...


class TurnIO(Protocol):
    """The I/O of one contender's wait: the algorithm (``wait_turn_with``) is the same for the
    asyncio recipes (``AsyncTurnIO``) and the blocking ones (``recipes.sync._turn``, whose
    methods never suspend: the coroutine runs to its end in the caller's thread)."""

    prefix: bytes  # the lock's / election's key prefix
    key: bytes  # ours
    revision: int  # its create revision

    def check(self) -> None:
        """Raise ``SessionLostError`` / ``SessionClosedError`` when the session is gone."""
        ...

    async def blockers(self) -> list[KeyValue]:
        """The keys created before ours, newest first, at most ``NEAR + 1``; checks ours still exists
        (``_vanished`` otherwise)."""
        ...

    def deletions(self, key: bytes, *, prefix: bool) -> AbstractAsyncContextManager[DeletionFeed]:
        """A deletions-only watch on ``key`` (or the prefix) from now, closed when the block ends."""
        ...

    async def pause(self, delay: float) -> None:
        """Back off ``delay`` seconds before retrying (may end early when the session is lost)."""
        ...


async def wait_turn(
    client: AsyncClient,
    session: AsyncSession,
    prefix: bytes,
    key: bytes,
    revision: int,
    deadline: float | None,
    earlier: Sequence[KeyValue] | None = None,
) -> None:
    """Return once no key under ``prefix`` has a create revision below ``revision`` and ``key`` still exists.

    ``earlier`` (optional): the keys created before ours, newest first, at most ``NEAR + 1``
    (fewer: all of them), as the enqueue txn saw them; it saves the first read.

    Raises ``TurnTimeout`` at ``deadline``, ``SessionLostError`` when the session is lost and
    ``LockNotHeldError`` when ``key`` vanished otherwise (deleted by someone else).
    """
    await wait_turn_with(AsyncTurnIO(client, session, prefix, key, revision), deadline, earlier)


async def wait_turn_with(io: TurnIO, deadline: float | None, earlier: Sequence[KeyValue] | None) -> None:
    """``wait_turn``'s algorithm over ``io`` (same contract)."""
    delay = 0.05
    known = list(earlier) if earlier is not None else None
    while True:
        try:
            if known is None:
                known = await io.blockers()
            if not known:
                return
            if len(known) <= NEAR:
                known = await _wait_all(io, deadline)
            else:
                known = await _wait_newest(io, known[0], deadline)
        except _TRANSIENT:
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise TurnTimeout() from None
            await io.pause(delay)
            delay = min(delay * 2, 1.0)
            known = None


async def _wait_all(io: TurnIO, deadline: float | None) -> list[KeyValue]:
    """Watch the whole prefix, read the blockers, strike each off as it is deleted; [] when none is left.

    (Returns the blockers read, without waiting, should they not all fit the listing: the set only
    shrinks, so that cannot happen after a complete list of at most ``NEAR``.)
    """
    async with io.deletions(io.prefix, prefix=True) as feed:
        left = await io.blockers()
        if len(left) > NEAR:
            return left
        waiting = {kv.key for kv in left}
        if waiting:

            def gone(keys: list[bytes]) -> bool:
                for k in keys:
                    if k == io.key:
                        _vanished(io)
                    waiting.discard(k)
                return not waiting

            await feed.until(gone, deadline)
        return []


async def _wait_newest(io: TurnIO, newest: KeyValue, deadline: float | None) -> list[KeyValue] | None:
    """Wait for ``newest`` (a blocker) to go; return the blockers left, or None once it went (read again)."""
    async with io.deletions(newest.key, prefix=False) as feed:
        left = await io.blockers()
        if not left or left[0].key != newest.key or left[0].create_revision != newest.create_revision:
            return left  # it went before the watch started: the read shows who is left
        await feed.until(bool, deadline)  # the first deletion of that one key
    return None


def blockers_txn(prefix: bytes, key: bytes, revision: int) -> Txn:
    """The read behind ``TurnIO.blockers``: the keys created before ours, and ours."""
    return Txn().then(blockers(prefix, revision), Get(key, keys_only=True))


def blockers_in(resp: TxnResponse, io: TurnIO) -> list[KeyValue]:
    """``TurnIO.blockers``'s answer from ``blockers_txn``'s response (``_vanished`` if ours is gone)."""
    earlier, mine = resp.responses
    assert isinstance(earlier, GetResponse) and isinstance(mine, GetResponse)
    if not mine.kvs or mine.kvs[0].create_revision != io.revision:
        _vanished(io)
    return list(earlier.kvs)


def _vanished(io: TurnIO) -> NoReturn:
    io.check()  # SessionLostError when the lease is gone
    raise LockNotHeldError(f"key {io.key!r} vanished while waiting")


class AsyncTurnIO:
    """``TurnIO`` on an ``AsyncClient`` (the asyncio recipes)."""

    def __init__(self, client: AsyncClient, session: AsyncSession, prefix: bytes, key: bytes, revision: int) -> None:
        self.client = client
        self.session = session
        self.prefix = prefix
        self.key = key
        self.revision = revision

    def check(self) -> None:
        self.session.check()

    async def blockers(self) -> list[KeyValue]:
        self.session.check()
        return blockers_in(await self.client.txn(blockers_txn(self.prefix, self.key, self.revision)), self)

    @contextlib.asynccontextmanager
    async def deletions(self, key: bytes, *, prefix: bool) -> AsyncIterator[DeletionFeed]:
        async with closing(await self.client.watch(key, prefix=prefix, no_put=True)) as watch:
            yield _AsyncFeed(watch, self.session)

    async def pause(self, delay: float) -> None:
        await asyncio.sleep(delay)


class _AsyncFeed:
    def __init__(self, watch: Watch, session: AsyncSession) -> None:
        self.watch = watch
        self.session = session

    async def until(self, gone: Callable[[list[bytes]], bool], deadline: float | None) -> None:
        async def feed() -> None:
            async for batch in self.watch:
                if gone([e.kv.key for e in batch.events if e.type is EventType.DELETE]):
                    return
            raise WatchError("lock watch ended")  # cannot happen: only our caller closes it

        await _race(feed(), self.session, deadline)


async def _race(wait: Coroutine[None, None, None], session: AsyncSession, deadline: float | None) -> None:
    """Run ``wait`` to its end; ``SessionLostError`` if the session is lost first, ``TurnTimeout`` at ``deadline``."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_task(wait)
    lost = loop.create_task(session.lost_event.wait())
    try:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        done, _ = await asyncio.wait({waiter, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            waiter.result()  # a watch error (or LockNotHeldError) propagates
            return
        session.check()  # raises SessionLostError when the session was lost
        raise TurnTimeout()
    finally:
        for t in (waiter, lost):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
