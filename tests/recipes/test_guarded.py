"""The talk's stock race: reproduced with a plain watch, prevented by the lock-guarded handler.

Deterministic: the handler blocks on an event until the test has made the
writer act (plain watch) or proved the writer is queued on the lock (guarded).
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from etcdkit.client import AsyncClient, Client, Event
from etcdkit.recipes import (
    AsyncGuardedWatch,
    AsyncLock,
    AsyncSession,
    GuardedWatch,
    Session,
    guarded_put_sync,
    lock_name,
)
from etcdkit.testing import wait_until

from .conftest import arun


class Trader:
    """Sells below 120, buys below 115; records whether the price still held when it acted."""

    def __init__(self, client: Client, key: bytes) -> None:
        self.client, self.key = client, key
        self.actions: list[tuple[int, str, bool]] = []
        self.first_handling = threading.Event()
        self.proceed = threading.Event()

    def handle(self, event: Event) -> None:
        price = int(event.kv.value)
        action = "buy" if price < 115 else "sell" if price < 120 else "hold"
        if not self.actions:
            self.first_handling.set()
            assert self.proceed.wait(20), "test never let the handler proceed"
        still_true = self.client.get(self.key).value == event.kv.value
        self.actions.append((price, action, still_true))


def test_race_without_the_guard(client: Client, prefix: bytes) -> None:
    key = prefix + b"stock/foo"
    trader = Trader(client, key)
    with client.watch(key) as watch:

        def watcher() -> None:
            while len(trader.actions) < 2:
                batch = watch.next(timeout=20)
                assert batch is not None
                for e in batch.events:
                    trader.handle(e)

        t = threading.Thread(target=watcher)
        t.start()
        client.put(key, b"119")
        assert trader.first_handling.wait(20)
        client.put(key, b"110")  # nothing holds the writer back while the sell is in progress
        trader.proceed.set()
        t.join(30)
        assert not t.is_alive()
    # The sell executed when the price was already 110: the race.
    assert trader.actions == [(119, "sell", False), (110, "buy", True)]


def test_no_race_with_the_guard(client: Client, prefix: bytes) -> None:
    key = prefix + b"stock/foo"
    trader = Trader(client, key)
    with Session(client, ttl=5) as watcher_session, Session(client, ttl=5) as writer_session:
        gw = GuardedWatch(watcher_session, key, trader.handle)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                gw.run()
            except BaseException as e:  # surfaced by the assertion below
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        assert gw.ready.wait(10)
        guarded_put_sync(writer_session, key, b"119")
        assert trader.first_handling.wait(20)
        writer = threading.Thread(target=guarded_put_sync, args=(writer_session, key, b"110"))
        writer.start()
        lock_keys = lock_name(key) + b"/"
        # The writer is queued behind the handler's lock...
        wait_until(lambda: len(client.get(lock_keys, prefix=True).kvs) == 2, timeout=10, what="writer queued")
        assert client.get(key).value == b"119"  # ...and has not written
        trader.proceed.set()
        writer.join(20)
        wait_until(lambda: len(trader.actions) == 2, timeout=20, what="second event handled")
        gw.stop()
        t.join(20)
        assert not t.is_alive() and not errors, errors
    assert trader.actions == [(119, "sell", True), (110, "buy", True)]
    assert client.get(lock_name(key) + b"/", prefix=True).kvs == ()


def test_lock_released_on_handler_error(endpoint: str, prefix: bytes) -> None:
    key = prefix + b"k"

    class Boom(Exception):
        pass

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            s = await AsyncSession.create(c, ttl=5)
            seen: list[bytes] = []

            async def handler(event: Event) -> None:
                seen.append(event.kv.value)
                assert (await c.get(lock_name(key) + b"/", prefix=True)).count == 1  # held while handling
                raise Boom

            gw = AsyncGuardedWatch(s, key, handler)
            ready = asyncio.Event()
            task = asyncio.create_task(gw.run(ready.set))
            await asyncio.wait_for(ready.wait(), 10)
            await c.put(key, b"v")
            with pytest.raises(Boom):
                await asyncio.wait_for(task, 20)
            assert seen == [b"v"]
            assert (await c.get(lock_name(key) + b"/", prefix=True)).kvs == ()
            other = await AsyncSession.create(c, ttl=5)
            lock = AsyncLock(other, lock_name(key))
            assert await lock.acquire(timeout=1)
            await lock.release()
            await other.close()
            await s.close()

    arun(body())


def test_stale_event_is_skipped(client: Client, prefix: bytes) -> None:
    key = prefix + b"s"
    seen: list[bytes] = []
    with Session(client, ttl=5) as s:
        client.put(key, b"1")
        first = client.get(key).kvs[0].mod_revision
        client.put(key, b"2")
        gw = GuardedWatch(s, key, lambda e: seen.append(e.kv.value), start_revision=first)
        t = threading.Thread(target=gw.run)
        t.start()
        wait_until(lambda: gw.handled + gw.skipped == 2, timeout=10, what="both events seen")
        gw.stop()
        t.join(20)
    assert seen == [b"2"] and gw.skipped == 1
