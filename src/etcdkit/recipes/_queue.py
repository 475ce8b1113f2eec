"""Waiting for one's turn under a lock/election prefix (shared by ``AsyncLock`` and ``AsyncElection``).

``wait_turn`` mirrors clientv3's ``waitDeletes``: repeatedly find the newest
key created before ours and wait until it is deleted (a watch from now plus a
read after the watch exists, so no deletion can slip between them). When
none is left, we are first. The wait ends early with
``SessionLostError`` if the session is lost (our key is then gone) and with
``TurnTimeout`` at ``deadline``; transient request failures are retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from etcdkit.client import (
    AsyncClient,
    DeadlineExceededError,
    EventType,
    Get,
    GetResponse,
    Txn,
    UnavailableError,
    Watch,
)
from etcdkit.recipes.core.mutex import last_created_before
from etcdkit.recipes.errors import LockNotHeldError
from etcdkit.recipes.session import AsyncSession

log = logging.getLogger("etcdkit.recipes")

__all__ = ["TurnTimeout", "closing", "stop_tasks", "wait_turn"]


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
_TRANSIENT = (DeadlineExceededError, UnavailableError)


async def wait_turn(
    client: AsyncClient, session: AsyncSession, prefix: bytes, key: bytes, revision: int, deadline: float | None
) -> None:
    """Return once no key under ``prefix`` has a create revision below ``revision`` and ``key`` still exists.

    Raises ``TurnTimeout`` at ``deadline``, ``SessionLostError`` when the session is lost and
    ``LockNotHeldError`` when ``key`` vanished otherwise (deleted by someone else).
    """
    delay = 0.05
    while True:
        try:
            await _wait_turn_once(client, session, prefix, key, revision, deadline)
            return
        except _TRANSIENT:
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise TurnTimeout() from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


async def _wait_turn_once(
    client: AsyncClient, session: AsyncSession, prefix: bytes, key: bytes, revision: int, deadline: float | None
) -> None:
    resp = await client.get_op(last_created_before(prefix, revision))
    while resp.kvs:
        session.check()
        blocker = resp.kvs[0]
        # Watch from *now*, then check the blocker still exists: a watch starting at an older
        # revision joins etcd's "unsynced" watchers, served by a 100 ms sync loop, which would
        # add up to 100 ms to every hand-off under contention. Deletions before the watch
        # started are seen by the read; later ones by the watch.
        watch = await client.watch(blocker.key, no_put=True)
        try:
            now = await client.get(blocker.key, keys_only=True)
            if now.kvs and now.kvs[0].create_revision == blocker.create_revision:
                await _until_deleted(watch, session, deadline)
        finally:
            await watch.close()
        # One read for the hand-off: is anyone else before us, and is our key still there?
        both = await client.txn(Txn().then(last_created_before(prefix, revision), Get(key)))
        earlier, mine = both.responses
        assert isinstance(earlier, GetResponse) and isinstance(mine, GetResponse)
        if not mine.kvs or mine.kvs[0].create_revision != revision:
            session.check()  # SessionLostError when the lease is gone
            raise LockNotHeldError(f"key {key!r} vanished while waiting")
        resp = earlier


async def _until_deleted(watch: Watch, session: AsyncSession, deadline: float | None) -> None:
    async def deleted() -> None:
        async for batch in watch:
            if any(e.type is EventType.DELETE for e in batch.events):
                return

    loop = asyncio.get_running_loop()
    waiter = loop.create_task(deleted())
    lost = loop.create_task(session.lost_event.wait())
    try:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        done, _ = await asyncio.wait({waiter, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            waiter.result()  # a watch error propagates
            return
        session.check()  # raises SessionLostError when the session was lost
        raise TurnTimeout()
    finally:
        for t in (waiter, lost):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
