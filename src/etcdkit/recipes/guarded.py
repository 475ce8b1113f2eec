"""Lock-guarded watch handling: run a handler for each event of a key while holding that key's lock.

The talk's race: a watcher reacts to ``price=119`` (sell) while a writer
sets ``price=110``; the action runs on a price that is no longer true.
``AsyncGuardedWatch`` takes the key's lock around every handler run, and
writers that go through ``guarded_put``/``guarded_delete`` take the same
lock, so a write waits until the handler reacting to the previous value is
done — and the handler sees the world its event describes.

Contract:

* one ``AsyncLock`` per event key, named ``lock_prefix + key`` (default
  prefix ``__etcdkit_locks``, outside the watched keys so lock keys never
  show up as events); writers must use the same prefix;
* events are handled one at a time, in revision order;
* ``skip_stale=True`` (default): under the lock the key is read again and an
  event that is no longer the key's current state is skipped (a newer event
  for the key is on its way), so a handler never acts on a superseded value;
* the lock is released whether the handler returns or raises; a handler
  error stops the watch and is raised from ``run()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from etcdkit.client import Event, EventType, PutResponse, Watch
from etcdkit.recipes._queue import closing
from etcdkit.recipes.lock import AsyncLock
from etcdkit.recipes.session import AsyncSession

__all__ = ["DEFAULT_LOCK_PREFIX", "AsyncGuardedWatch", "guarded_delete", "guarded_put", "lock_name"]

DEFAULT_LOCK_PREFIX = b"__etcdkit_locks"


def lock_name(key: bytes, lock_prefix: bytes = DEFAULT_LOCK_PREFIX) -> bytes:
    """The lock guarding ``key``."""
    return lock_prefix + (key if key.startswith(b"/") else b"/" + key)


async def guarded_put(
    session: AsyncSession,
    key: bytes,
    value: bytes,
    *,
    lock_prefix: bytes = DEFAULT_LOCK_PREFIX,
    timeout: float | None = None,
) -> PutResponse:
    """Put ``key`` while holding its lock (waits for a handler busy with the key)."""
    async with AsyncLock(session, lock_name(key, lock_prefix), timeout=timeout):
        return await session.client.put(key, value)


async def guarded_delete(
    session: AsyncSession, key: bytes, *, lock_prefix: bytes = DEFAULT_LOCK_PREFIX, timeout: float | None = None
) -> int:
    """Delete ``key`` while holding its lock; returns how many keys were deleted."""
    async with AsyncLock(session, lock_name(key, lock_prefix), timeout=timeout):
        return (await session.client.delete(key)).deleted


class AsyncGuardedWatch:
    """Watch ``key`` (or a prefix) and run ``handler(event)`` under the event key's lock."""

    def __init__(
        self,
        session: AsyncSession,
        key: bytes,
        handler: Callable[[Event], Awaitable[None]],
        *,
        prefix: bool = False,
        lock_prefix: bytes = DEFAULT_LOCK_PREFIX,
        skip_stale: bool = True,
        start_revision: int = 0,
    ) -> None:
        self.session = session
        self.key = key
        self.prefix = prefix
        self.handler = handler
        self.lock_prefix = lock_prefix
        self.skip_stale = skip_stale
        self.start_revision = start_revision
        self.handled = 0
        self.skipped = 0
        self._stopping = False
        self._watch: Watch | None = None

    async def run(self, ready: Callable[[], None] | None = None) -> None:
        """Handle events until ``stop()``; ``ready()`` is called once the watch exists."""
        client = self.session.client
        self._stopping = False
        async with closing(
            await client.watch(self.key, prefix=self.prefix, start_revision=self.start_revision)
        ) as watch:
            self._watch = watch
            if ready is not None:
                ready()
            async for batch in watch:
                for event in batch.events:
                    if self._stopping:
                        return
                    await self._handle(event)

    async def stop(self) -> None:
        """Make ``run()`` return; a handler in progress completes (and releases its lock) first."""
        self._stopping = True
        if self._watch is not None:
            await self._watch.close()

    async def _handle(self, event: Event) -> None:
        async with AsyncLock(self.session, lock_name(event.kv.key, self.lock_prefix)):
            if self.skip_stale and await self._stale(event):
                self.skipped += 1
                return
            await self.handler(event)
            self.handled += 1

    async def _stale(self, event: Event) -> bool:
        current = await self.session.client.get(event.kv.key)
        if event.type is EventType.DELETE:
            return bool(current.kvs)
        return not current.kvs or current.kvs[0].mod_revision != event.kv.mod_revision
