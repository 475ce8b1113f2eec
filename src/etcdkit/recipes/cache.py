"""``AsyncCache``: a local, always-readable copy of a prefix that rides out outages.

Usage::

    cache = AsyncCache(client, b"/stock/", path="stock.cache.json", on_conflict=report)
    await cache.start()                 # returns once listed (or at once from a snapshot file)
    cache.get(b"/stock/foo")            # local, never blocks, also while etcd is down
    cache.stale, cache.staleness()      # how much to trust it
    await cache.put(b"/stock/foo", b"119")   # local at once; pushed when the cluster is reachable
    await cache.close()

Contract (state rules in ``core.cache``):

* start: from the snapshot file when ``path`` has one (serving its state at
  once, stale), else by listing the prefix; then a watch from the state's
  revision + 1. If that history was compacted the prefix is listed again and
  the difference is delivered as synthetic events;
* the client's watch resumes by itself after failures; the cache listens to
  the client's connection state: not CONNECTED → stale (reads keep serving);
  CONNECTED again → the write queue is pushed, and the cache is in sync
  again once a read at its revision shows the history it resumes from is
  still there (else the watch reports the compaction and the relist brings
  it in sync). "Not stale" is never claimed for a state the watch cannot
  bring up to date;
* listeners (``add_listener``) get every change as an ``Event`` (``synthetic``
  for relist differences), on the event loop, and must not block;
* writes: with ``write_back=True`` (default) ``put``/``delete`` are queued and
  pushed in order with compare-on-mod-revision; refused ones are reported to
  ``on_conflict(Conflict)`` and never overwrite the remote change. With
  ``write_back=False`` they go straight to etcd (and fail while it is down);
* with ``path``, the state, revision and queue are saved (atomically,
  coalesced every ``persist_interval`` seconds, and at ``close``), so a
  restarted process starts from its last state and keeps unpushed writes;
* reads are plain dict lookups, safe from any thread; connection-state
  changes reported on other threads are handed to the cache's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from etcdkit.client import (
    AsyncClient,
    ClientClosedError,
    CompactedError,
    ConnectionState,
    EtcdError,
    Event,
    KeyValue,
    WatchCompactedError,
)
from etcdkit.recipes._queue import stop_tasks
from etcdkit.recipes.core.cache import CacheCore, Conflict, PendingWrite
from etcdkit.recipes.errors import CacheClosedError

__all__ = ["AsyncCache", "Conflict", "PendingWrite"]

log = logging.getLogger("etcdkit.recipes.cache")


class AsyncCache:
    """List + watch of ``prefix`` into a local map, with optional persistence and write-back."""

    def __init__(
        self,
        client: AsyncClient,
        prefix: bytes,
        *,
        path: str | os.PathLike[str] | None = None,
        write_back: bool = True,
        on_conflict: Callable[[Conflict], None] | None = None,
        persist_interval: float = 0.2,
        retry_interval: float = 0.5,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.path = Path(path) if path is not None else None
        self.write_back = write_back
        self.on_conflict = on_conflict
        self.persist_interval = persist_interval
        self.retry_interval = retry_interval
        self.core = CacheCore(time.monotonic())
        self.conflicts: list[Conflict] = []
        self.relists = 0
        self._listeners: list[Callable[[Event], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._kick_push = asyncio.Event()
        self._kick_save = asyncio.Event()
        self._reconnected = asyncio.Event()
        self._changed = asyncio.Event()
        self._closed = False
        self._watching = False
        self._confirming: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- reads (local) -------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        return self.core.get(key)

    def get_kv(self, key: bytes) -> KeyValue | None:
        """The last known remote key-value (queued local writes not applied)."""
        return self.core.data.get(key)

    def items(self) -> list[tuple[bytes, bytes]]:
        return self.core.items()

    def __contains__(self, key: bytes) -> bool:
        return self.core.get(key) is not None

    def __len__(self) -> int:
        return len(self.core.items())

    @property
    def revision(self) -> int:
        """The store revision the local state reflects."""
        return self.core.revision

    @property
    def stale(self) -> bool:
        return not self.core.in_sync

    def staleness(self) -> float:
        """0 while in sync; else seconds since the cache lost the cluster."""
        return self.core.staleness(time.monotonic())

    @property
    def pending(self) -> list[PendingWrite]:
        """Queued local writes, oldest first."""
        return list(self.core.pending.values())

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until ``predicate()`` holds, re-checked after every change (``TimeoutError`` after ``timeout``)."""

        async def until() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def wait_synced(self, timeout: float | None = None) -> None:
        await self.wait_for(lambda: self.core.in_sync, timeout)

    # --- writes ----------------------------------------------------------------------------

    async def put(self, key: bytes, value: bytes) -> None:
        """Write ``key`` (see the write-back contract)."""
        await self._write(key, value)

    async def delete(self, key: bytes) -> None:
        await self._write(key, None)

    async def _write(self, key: bytes, value: bytes | None) -> None:
        if self._closed:
            raise CacheClosedError("cache is closed")
        if not key.startswith(self.prefix):
            raise ValueError(f"key {key!r} is outside the cached prefix {self.prefix!r}")
        if not self.write_back:
            if value is None:
                await self.client.delete(key)
            else:
                await self.client.put(key, value)
            return
        self.core.write(key, value)
        self._kick_push.set()
        self._kick_save.set()
        self._changed.set()

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until the write queue is empty (pushed or reported as conflicts)."""
        self._kick_push.set()
        await self.wait_for(lambda: not self.core.pending, timeout)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, timeout: float | None = None) -> None:
        """Load the snapshot (if any) or wait for the first list (up to ``timeout``), and run."""
        if self.path is not None and self.path.exists():
            self.core.restore(json.loads(self.path.read_text()), time.monotonic())
        loop = self._loop = asyncio.get_running_loop()
        self.client.add_state_listener(self._on_state)
        self._tasks = [loop.create_task(self._sync_loop()), loop.create_task(self._push_loop())]
        if self.path is not None:
            self._tasks.append(loop.create_task(self._save_loop()))
        if self.core.revision == 0:
            await self.wait_synced(timeout)

    async def close(self) -> None:
        """Stop syncing and pushing; save the state (queue included) when persisting. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ValueError):
            self.client.remove_state_listener(self._on_state)
        await stop_tasks([*self._tasks, *([self._confirming] if self._confirming is not None else [])])
        self._save()

    async def __aenter__(self) -> AsyncCache:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- driving the core ------------------------------------------------------------------

    def _emit(self, events: list[Event]) -> None:
        if events:
            self._kick_save.set()
        self._changed.set()
        for e in events:
            for cb in list(self._listeners):
                try:
                    cb(e)
                except Exception:
                    log.exception("cache listener failed")

    def _on_state(self, state: ConnectionState) -> None:
        # The client may call listeners from any thread (a blocking call's thread included);
        # the core and the asyncio events belong to the loop the cache runs on.
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is not self._loop and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self._state_changed, state)
        else:
            self._state_changed(state)

    def _state_changed(self, state: ConnectionState) -> None:
        if self._closed:
            return
        if state is ConnectionState.CONNECTED:
            if self._watching and not self.core.in_sync and (self._confirming is None or self._confirming.done()):
                # The client's watch resumes by itself, unless its history was compacted meanwhile.
                assert self._loop is not None
                self._confirming = self._loop.create_task(self._confirm_resumed())
            self._reconnected.set()
            self._kick_push.set()
        else:
            self.core.unsynced(time.monotonic())
            self._changed.set()

    async def _history_kept(self) -> bool:
        """True if the server still has the history after ``revision`` (a watch from it can resume)."""
        try:
            await self.client.get(self.prefix, prefix=True, count_only=True, revision=self.core.revision)
        except CompactedError:
            return False
        return True

    async def _confirm_resumed(self) -> None:
        """After a reconnect: in sync again if the watch can resume (else its compaction error relists).

        A failed check is retried every ``retry_interval`` while it still matters.
        """
        while self._watching and not self.core.in_sync and not self._closed:
            try:
                kept = await self._history_kept()
            except EtcdError as e:
                log.debug("cache of %r: reconnect check failed (%s); retrying", self.prefix, e)
                await asyncio.sleep(self.retry_interval)
                continue
            if kept and self._watching and self.client.state is ConnectionState.CONNECTED:
                self.core.synced(time.monotonic())
                self._changed.set()
            return

    async def _sync_loop(self) -> None:
        relist = self.core.revision == 0
        while not self._closed:
            try:
                if relist:
                    resp = await self.client.get(self.prefix, prefix=True)
                    self.relists += 1
                    self._emit(self.core.load_list(resp, time.monotonic()))
                watch = await self.client.watch(self.prefix, prefix=True, start_revision=self.core.revision + 1)
                try:
                    # Fresh from a list, the watch starts where it ended. Resuming an older state
                    # (a snapshot file, or after an error), check its history is still there first.
                    if not relist and not await self._history_kept():
                        raise WatchCompactedError(0, self.core.revision + 1)
                    relist = False
                    self._watching = True
                    self.core.synced(time.monotonic())
                    self._changed.set()
                    self._kick_push.set()
                    async for batch in watch:
                        if self.client.state is ConnectionState.CONNECTED:
                            self.core.synced(time.monotonic())
                        self._emit(self.core.apply(batch.events))
                finally:
                    self._watching = False
                    await watch.close()
            except ClientClosedError:
                return  # the client was closed under us: nothing more to sync
            except WatchCompactedError as e:
                log.info("cache of %r: history compacted (%s); relisting", self.prefix, e)
                relist = True
            except EtcdError as e:
                log.debug("cache of %r: cluster unreachable (%s); retrying", self.prefix, e)
                self.core.unsynced(time.monotonic())
                self._changed.set()
                self._reconnected.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._reconnected.wait(), self.retry_interval)

    async def _push_loop(self) -> None:
        while not self._closed:
            await self._kick_push.wait()
            self._kick_push.clear()
            while not self._closed and (pw := self.core.next_push()) is not None:
                try:
                    resp = await self.client.txn(self.core.push_txn(pw))
                except ClientClosedError:
                    return
                except EtcdError as e:
                    log.debug("cache of %r: push of %r failed (%s); will retry", self.prefix, pw.key, e)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._kick_push.wait(), self.retry_interval)
                    continue
                conflict = self.core.pushed(pw, resp)
                self._kick_save.set()
                self._changed.set()
                if conflict is not None:
                    self.conflicts.append(conflict)
                    if self.on_conflict is not None:
                        try:
                            self.on_conflict(conflict)
                        except Exception:
                            log.exception("cache on_conflict callback failed")

    async def _save_loop(self) -> None:
        while not self._closed:
            await self._kick_save.wait()
            self._kick_save.clear()
            try:
                self._save()
            except OSError:
                log.exception("cache of %r: saving to %s failed", self.prefix, self.path)
            await asyncio.sleep(self.persist_interval)

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.core.snapshot(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
