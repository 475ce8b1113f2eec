"""Watches for the lock and election recipes: the same waits etcd's client makes.

etcd's recipes wait with watches (``waitDelete`` watches one key from a
revision for a DELETE; ``Observe`` watches the leader key or the prefix). The
recipes here are written against :class:`Watches` / :class:`EventWatch`, with
two transports:

* :class:`HubWatches` registers real watchers on the server's watch hub (the
  one behind the Watch service): events are pushed by the apply loop, exactly
  what a client watch would get. Used whenever the server has a hub.
* :class:`PollingWatches` (no hub in the build): waits for the revision to move
  (:class:`~etcdkit.server.lease.kv.RevisionFeed`) and reads the revisions
  passed since from the store's history (``read_events``) — the same events,
  with up to one poll interval of delay.

``EventWatch.next()`` returns the next non-empty list of events (whole
revisions, in order) or ``None`` when the watch was cancelled (history
compacted away); the caller then re-reads the current state, as the Go client
restarts a cancelled watch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import KVServer, RevisionFeed

__all__ = ["EVENT_BATCH", "EventHub", "EventWatch", "HubWatches", "PollingWatches", "Watches"]

EVENT_BATCH = 1000
"""Most history events a polling watch reads at once (whole revisions)."""


class EventWatch(Protocol):
    """One open watch on a key range (see the module docstring)."""

    async def next(self) -> list[kv_pb2.Event] | None: ...
    def close(self) -> None: ...


class Watches(Protocol):
    """Opens watches; ``notify`` hints that a write was just applied."""

    def open(self, key: bytes, range_end: bytes, start_revision: int) -> EventWatch: ...
    def notify(self) -> None: ...


class EventHub(Protocol):
    """The slice of ``etcdkit.server.watch.WatchHub`` used here."""

    def open_stream(self, wakeup: Callable[[], None], label: str = "") -> Any: ...
    def close_stream(self, stream: Any) -> None: ...
    def create(self, stream: Any, req: rpc_pb2.WatchCreateRequest) -> Any: ...
    def take(self, stream: Any) -> list[Any]: ...


# --- on the watch hub ------------------------------------------------------------
class _HubWatch:
    """One hub stream holding one watcher; ``wakeup`` sets an asyncio.Event."""

    def __init__(self, hub: EventHub, key: bytes, range_end: bytes, start_revision: int) -> None:
        self._hub = hub
        self._ready = asyncio.Event()
        self._stream = hub.open_stream(self._ready.set, label="lease-recipes")
        req = rpc_pb2.WatchCreateRequest(key=key, range_end=range_end, start_revision=start_revision)
        hub.create(self._stream, req)

    async def next(self) -> list[kv_pb2.Event] | None:
        while True:
            # Clear before take(): anything queued after it signals again.
            self._ready.clear()
            events: list[kv_pb2.Event] = []
            items = self._hub.take(self._stream)
            for item in items:
                batch = getattr(item, "batch", None)
                if batch is not None:
                    events.extend(e.event for e in batch.events)
                elif getattr(item, "canceled", False):
                    return None
            if events:
                return events
            if not items and not self._stream.synced:
                await asyncio.sleep(0)  # catch-up progressed without output: let others run, go on
                continue
            await self._ready.wait()

    def close(self) -> None:
        self._hub.close_stream(self._stream)


class HubWatches:
    """Watches registered on the server's watch hub (pushed events)."""

    def __init__(self, hub: EventHub) -> None:
        self._hub = hub

    def open(self, key: bytes, range_end: bytes, start_revision: int) -> EventWatch:
        return _HubWatch(self._hub, key, range_end, start_revision)

    def notify(self) -> None:
        """Nothing to do: the hub is told about every write by the apply loop."""


# --- by polling the store's history ------------------------------------------------
class _PollingWatch:
    def __init__(self, server: KVServer, feed: RevisionFeed, key: bytes, range_end: bytes, start: int) -> None:
        self._server = server
        self._feed = feed
        self._key = key
        self._range_end = range_end
        # revisions <= _seen are done; a start of 0 means "from now", as for a watch
        self._seen = start - 1 if start > 0 else server.current_revision()

    async def next(self) -> list[kv_pb2.Event] | None:
        while True:
            current = await self._feed.wait_past(self._seen)
            try:
                events = self._server.read_events(self._key, self._range_end, self._seen + 1, current, EVENT_BATCH)
            except EtcdServerError:  # compacted away
                return None
            # a full batch holds whole revisions only: resume after the last one
            self._seen = int(events[-1].kv.mod_revision) if len(events) >= EVENT_BATCH else current
            if events:
                return events

    def close(self) -> None:
        pass


class PollingWatches:
    """Watches emulated with a :class:`RevisionFeed` and ``read_events``."""

    def __init__(self, server: KVServer, feed: RevisionFeed | None = None) -> None:
        self._server = server
        self._feed = feed if feed is not None else RevisionFeed(server.current_revision)

    def open(self, key: bytes, range_end: bytes, start_revision: int) -> EventWatch:
        return _PollingWatch(self._server, self._feed, key, range_end, start_revision)

    def notify(self) -> None:
        """Wake the waiters now instead of at the next poll."""
        self._feed.notify()
