"""Unit tests for the recipes' watches: the hub transport (a real WatchHub over an
in-memory history) and the polling transport (RevisionFeed + read_events) must
deliver the same events; wait_delete returns on the key's deletion only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from etcdkit.api import errors
from etcdkit.api.keys import in_range
from etcdkit.api.pb import kv_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import RevisionFeed, wait_delete
from etcdkit.server.lease.watching import HubWatches, PollingWatches, Watches
from etcdkit.server.watch import WatchHub

PUT, DELETE = kv_pb2.Event.PUT, kv_pb2.Event.DELETE


class History:
    """An in-memory store history; ``write`` commits one revision and tells the hub."""

    def __init__(self) -> None:
        self.rev = 1
        self.compacted = 0
        self.events: list[kv_pb2.Event] = []
        self.hub: WatchHub | None = None

    def current_revision(self) -> int:
        return self.rev

    def compact_revision(self) -> int:
        return self.compacted

    def read_events(
        self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[kv_pb2.Event]:
        if start_rev < self.compacted:
            raise EtcdServerError(errors.COMPACTED)
        return [
            e for e in self.events if start_rev <= e.kv.mod_revision <= end_rev and in_range(e.kv.key, key, range_end)
        ][:max_events]

    def write(self, *changes: tuple[int, bytes]) -> int:
        self.rev += 1
        evs = [kv_pb2.Event(type=kind, kv=kv_pb2.KeyValue(key=key, mod_revision=self.rev)) for kind, key in changes]
        self.events.extend(evs)
        if self.hub is not None:
            self.hub.notify(self.rev, evs)
        return self.rev


def _hub(h: History) -> Watches:
    h.hub = WatchHub(h)
    return HubWatches(h.hub)


def _polling(h: History) -> Watches:
    return PollingWatches(h, RevisionFeed(h.current_revision, poll_interval=0.001))  # type: ignore[arg-type]


TRANSPORTS: dict[str, Callable[[History], Watches]] = {"hub": _hub, "polling": _polling}


@pytest.fixture(params=sorted(TRANSPORTS))
def make(request: pytest.FixtureRequest) -> Callable[[History], Watches]:
    return TRANSPORTS[request.param]


def _summary(events: list[kv_pb2.Event] | None) -> list[tuple[str, bytes, int]] | None:
    if events is None:
        return None
    return [(kv_pb2.Event.EventType.Name(e.type), e.kv.key, int(e.kv.mod_revision)) for e in events]


def test_history_then_live_events_in_order(make: Callable[[History], Watches]) -> None:
    async def main() -> None:
        h = History()
        watches = make(h)
        h.write((PUT, b"a"))  # rev 2
        h.write((PUT, b"b"))  # rev 3: not watched
        watch = watches.open(b"a", b"", 2)
        try:
            async with asyncio.timeout(5):
                assert _summary(await watch.next()) == [("PUT", b"a", 2)]
                h.write((PUT, b"a"), (DELETE, b"b"))  # rev 4
                assert _summary(await watch.next()) == [("PUT", b"a", 4)]
                h.write((DELETE, b"a"))  # rev 5
                assert _summary(await watch.next()) == [("DELETE", b"a", 5)]
        finally:
            watch.close()

    asyncio.run(main())


def test_prefix_watch_from_now(make: Callable[[History], Watches]) -> None:
    async def main() -> None:
        h = History()
        watches = make(h)
        h.write((PUT, b"p/old"))
        watch = watches.open(b"p/", b"p0", 0)
        try:
            h.write((PUT, b"q"))
            h.write((PUT, b"p/1"), (PUT, b"p/2"))
            async with asyncio.timeout(5):
                assert _summary(await watch.next()) == [("PUT", b"p/1", 4), ("PUT", b"p/2", 4)]
        finally:
            watch.close()

    asyncio.run(main())


def test_compacted_start_cancels_the_watch(make: Callable[[History], Watches]) -> None:
    async def main() -> None:
        h = History()
        watches = make(h)
        for _ in range(4):
            h.write((PUT, b"k"))
        h.compacted = 4
        watch = watches.open(b"k", b"", 2)
        try:
            h.write((PUT, b"k"))  # lets the polling transport look
            async with asyncio.timeout(5):
                assert await watch.next() is None
        finally:
            watch.close()

    asyncio.run(main())


def test_wait_delete_ignores_puts_and_returns_on_delete(make: Callable[[History], Watches]) -> None:
    async def main() -> None:
        h = History()
        watches = make(h)
        seen = h.write((PUT, b"lock/1"))
        waiter = asyncio.create_task(wait_delete(watches, b"lock/1", seen))
        await asyncio.sleep(0.01)
        h.write((PUT, b"lock/1"))
        h.write((DELETE, b"lock/2"))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        h.write((DELETE, b"lock/1"))
        async with asyncio.timeout(5):
            await waiter

    asyncio.run(main())


def test_hub_watch_close_removes_the_watcher() -> None:
    async def main() -> None:
        h = History()
        watches = _hub(h)
        assert h.hub is not None
        watch = watches.open(b"k", b"", 0)
        assert h.hub.watcher_count == 1
        watch.close()
        assert h.hub.watcher_count == 0 and h.hub.streams == []

    asyncio.run(main())
