"""``Watch``: the user's handle on one watch, with its bounded delivery queue.

Contract:

* ``async for batch in watch`` yields ``WatchBatch`` objects in revision
  order; iteration ends with the watch's error (``WatchCompactedError``,
  ``ClientClosedError``...) or quietly after ``close()``;
* the queue between the stream and the consumer is bounded in events:
  ``WatchConfig.max_queued_events``. The handle only counts and signals; the
  stream driver (``_watcher.WatchHub``) decides what to do when it is full
  (move the watch to its own stream, or stop reading that stream). Errors and
  the end marker are always accepted, and a batch is never split, so the
  queue holds fewer than ``max_queued_events`` events plus one batch;
* ``stats`` are the watch's counters, with ``queued``/``queued_peak`` filled in.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from etcdkit.client._protocol.watch_core import WatchStats
from etcdkit.client.types import Event, WatchBatch

if TYPE_CHECKING:
    from etcdkit.client._watcher import WatchHub

__all__ = ["Watch"]


def _weight(batch: WatchBatch) -> int:
    # A resync batch may be empty; it still takes a place in the queue.
    return max(1, len(batch.events))


class Watch:
    """One watch: ``async for batch in watch`` yields ``WatchBatch`` objects in revision order."""

    def __init__(self, hub: WatchHub, wid: int, max_queued: int) -> None:
        self._hub = hub
        self.wid = wid
        self._queue: asyncio.Queue[WatchBatch | BaseException | None] = asyncio.Queue()
        self._max_queued = max_queued
        self._queued = 0  # events in queued batches
        self._peak = 0
        self._room = asyncio.Event()  # set while the queue has room (or the watch ended)
        self._room.set()
        self._created = asyncio.Event()
        self._done = False
        self._ended = False  # an error or the end marker was queued: nothing more will come
        self._final_stats = WatchStats()
        self.error: BaseException | None = None

    @property
    def stats(self) -> WatchStats:
        """Counters: reconnects, resyncs, events, lag, next_revision, queued, pauses, own_stream."""
        core = self._hub.core
        stats = core.stats(self.wid) if core.has(self.wid) else self._final_stats
        stats.queued = self._queued
        stats.queued_peak = self._peak
        return stats

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchBatch:
        if self._done and self._queue.empty():
            if self.error is not None:
                raise self.error
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            self._done = True
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._done = True
            self.error = item
            raise item
        self._queued -= _weight(item)
        if self._queued < self._max_queued:
            self._room.set()
        return item

    async def events(self) -> list[Event]:
        """The events of the next batch (convenience for simple consumers)."""
        return list((await self.__anext__()).events)

    async def close(self) -> None:
        """Cancel the watch; iteration ends after batches already received."""
        if not self._done and not self._ended:
            self._keep_final_stats()
            self._hub.cancel(self.wid)
            self._end(None)

    # --- called by the hub ------------------------------------------------------

    @property
    def full(self) -> bool:
        """The consumer is behind by ``max_queued_events`` or more (and the watch is live)."""
        return not self._ended and self._queued >= self._max_queued

    async def wait_room(self) -> None:
        """Return once the queue has room again, or the watch ended."""
        while self.full:
            self._room.clear()
            await self._room.wait()

    def _deliver(self, batch: WatchBatch) -> None:
        self._queue.put_nowait(batch)
        self._queued += _weight(batch)
        self._peak = max(self._peak, self._queued)

    def _fail(self, error: BaseException) -> None:
        self._keep_final_stats()
        self._end(error)
        self._created.set()

    def _end(self, item: BaseException | None) -> None:
        self._ended = True
        self._queue.put_nowait(item)
        self._room.set()  # wake a stream waiting for room: nothing more goes in

    def _keep_final_stats(self) -> None:
        if self._hub.core.has(self.wid):
            self._final_stats = self._hub.core.stats(self.wid)
