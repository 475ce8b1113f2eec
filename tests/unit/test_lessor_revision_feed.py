"""Unit tests for RevisionFeed, the waiting primitive of the lock/election recipes."""

from __future__ import annotations

import asyncio

from etcdkit.server.lease.kv import RevisionFeed


class Store:
    def __init__(self) -> None:
        self.rev = 5

    def current_revision(self) -> int:
        return self.rev


def test_returns_at_once_when_already_past() -> None:
    async def main() -> None:
        store = Store()
        feed = RevisionFeed(store.current_revision)
        assert await feed.wait_past(4) == 5

    asyncio.run(main())


def test_wakes_when_the_revision_moves_and_poller_stops_after() -> None:
    async def main() -> None:
        store = Store()
        feed = RevisionFeed(store.current_revision, poll_interval=0.001)
        waiter = asyncio.create_task(feed.wait_past(5))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        store.rev = 7
        async with asyncio.timeout(5):
            assert await waiter == 7
            while feed._poller is not None:  # the poller ends once nobody waits
                await asyncio.sleep(0.001)

    asyncio.run(main())


def test_change_between_park_and_poller_start_is_not_missed() -> None:
    async def main() -> None:
        store = Store()
        feed = RevisionFeed(store.current_revision, poll_interval=0.001)
        waiter = asyncio.create_task(feed.wait_past(5))
        await asyncio.sleep(0)  # the waiter parks; the poller has not run yet
        store.rev = 6
        async with asyncio.timeout(5):
            assert await waiter == 6

    asyncio.run(main())


def test_notify_wakes_without_polling() -> None:
    async def main() -> None:
        store = Store()
        feed = RevisionFeed(store.current_revision, poll_interval=3600)
        waiters = [asyncio.create_task(feed.wait_past(5)) for _ in range(3)]
        await asyncio.sleep(0)
        store.rev = 9
        feed.notify()
        async with asyncio.timeout(5):
            assert await asyncio.gather(*waiters) == [9, 9, 9]
        assert feed._poller is not None
        feed._poller.cancel()

    asyncio.run(main())


def test_cancelled_waiter_is_forgotten() -> None:
    async def main() -> None:
        store = Store()
        feed = RevisionFeed(store.current_revision, poll_interval=0.001)
        waiter = asyncio.create_task(feed.wait_past(5))
        await asyncio.sleep(0.005)
        waiter.cancel()
        async with asyncio.timeout(5):
            while feed._poller is not None:
                await asyncio.sleep(0.001)
        assert feed._waiters == 0

    asyncio.run(main())
