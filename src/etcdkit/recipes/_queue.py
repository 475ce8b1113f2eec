"""Waiting for one's turn under a lock/election prefix (shared by ``AsyncLock`` and ``AsyncElection``).

``wait_turn`` mirrors clientv3's ``waitDeletes``: repeatedly find the newest
key created before ours and wait (by a watch starting right after the read's
revision, so no deletion can slip between read and watch) until it is
deleted. When none is left, we are first. The wait ends early with
``SessionLostError`` if the session is lost (our key is then gone) and with
``TimeoutError`` at ``deadline``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from etcdkit.client import AsyncClient, EventType, Watch
from etcdkit.recipes.core.mutex import last_created_before
from etcdkit.recipes.session import AsyncSession

__all__ = ["closing", "wait_turn"]


@contextlib.asynccontextmanager
async def closing(watch: Watch) -> AsyncIterator[Watch]:
    """Close ``watch`` when the block ends."""
    try:
        yield watch
    finally:
        await watch.close()


async def wait_turn(
    client: AsyncClient, session: AsyncSession, prefix: bytes, revision: int, deadline: float | None
) -> None:
    """Return once no key under ``prefix`` has a create revision below ``revision``."""
    while True:
        session.check()
        resp = await client.get_op(last_created_before(prefix, revision))
        if not resp.kvs:
            return
        blocker = resp.kvs[0].key
        watch = await client.watch(blocker, start_revision=resp.header.revision + 1, no_put=True)
        try:
            await _until_deleted(watch, session, deadline)
        finally:
            await watch.close()


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
        raise TimeoutError("timed out waiting for the lock")
    finally:
        for t in (waiter, lost):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
