"""Watch options and connection state against a live server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from etcdkit.client import AsyncClient, ClientConfig, ConnectionState, Event, EventType, Watch, WatchConfig
from etcdkit.testing import ServerProcess
from tests.client.conftest import run


async def next_batch(w: Watch, timeout: float = 10) -> list[tuple[EventType, bytes, bytes]]:
    batch = await asyncio.wait_for(w.__anext__(), timeout)
    return [(e.type, e.kv.key, e.kv.value) for e in batch.events]


def test_watch_options(endpoint: str, prefix: bytes) -> None:
    P, D = EventType.PUT, EventType.DELETE

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            first = await c.put(prefix + b"a", b"1")
            await c.delete(prefix + b"a")
            # History replay from a past revision, then live events, on one stream with other watches.
            hist = await c.watch(prefix + b"a", start_revision=first.header.revision)
            assert await next_batch(hist) == [(P, prefix + b"a", b"1"), (D, prefix + b"a", b"")]
            pre = await c.watch(prefix, prefix=True, prev_kv=True)
            rng = await c.watch(prefix + b"b", range_end=prefix + b"d")
            frm = await c.watch(prefix + b"c", from_key=True, no_delete=True)
            nop = await c.watch(prefix, prefix=True, no_put=True)
            await c.put(prefix + b"b", b"2")
            await c.put(prefix + b"c", b"3")
            await c.put(prefix + b"b", b"4")
            await c.delete(prefix + b"c")
            got: list[Event] = []
            for _ in range(4):
                b = await asyncio.wait_for(pre.__anext__(), 10)
                got.extend(b.events)
            assert [(e.type, e.kv.key) for e in got] == [
                (P, prefix + b"b"),
                (P, prefix + b"c"),
                (P, prefix + b"b"),
                (D, prefix + b"c"),
            ]
            assert got[2].prev_kv is not None and got[2].prev_kv.value == b"2"
            assert got[3].prev_kv is not None and got[3].prev_kv.value == b"3"
            assert got[0].prev_kv is None
            assert [await next_batch(rng) for _ in range(4)] == [
                [(P, prefix + b"b", b"2")],
                [(P, prefix + b"c", b"3")],
                [(P, prefix + b"b", b"4")],
                [(D, prefix + b"c", b"")],
            ]
            assert await next_batch(frm) == [(P, prefix + b"c", b"3")]
            assert await next_batch(nop) == [(D, prefix + b"c", b"")]
            # Closing one watch leaves the others running.
            await rng.close()
            await c.put(prefix + b"c", b"5")
            assert await next_batch(frm) == [(P, prefix + b"c", b"5")]
            async for _ in rng:
                raise AssertionError("a closed watch yields nothing more")
            for w in (hist, pre, frm, nop):
                await w.close()

    run(body())


def test_progress_notify_advances_position(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server("--experimental-watch-progress-notify-interval=200ms")

    async def body() -> None:
        async with AsyncClient(endpoints=[srv.endpoint]) as c:
            w = await c.watch(prefix + b"quiet", progress_notify=True)
            start = w.stats.next_revision
            await c.put(prefix + b"other", b"x")
            await c.put(prefix + b"other", b"y")
            deadline = time.monotonic() + 10
            while w.stats.next_revision < start + 2:
                assert time.monotonic() < deadline, w.stats
                await asyncio.sleep(0.05)
            assert w.stats.events == 0

    run(body())


def test_connection_state_lost_and_back(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()
    cfg = ClientConfig(
        endpoints=(srv.endpoint,),
        dial_timeout=0.5,
        lost_timeout=1.0,
        watch=WatchConfig(progress_interval=0.2, stall_timeout=0.6, backoff_initial=0.05, backoff_max=0.2),
    )

    async def body() -> None:
        states: list[ConnectionState] = []
        async with AsyncClient(cfg) as c:
            c.add_state_listener(states.append)
            w = await c.watch(prefix + b"k")
            assert c.state is ConnectionState.CONNECTED
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, srv.stop)
            deadline = time.monotonic() + 15
            while c.state.value != ConnectionState.LOST.value:  # (mypy narrows the property)
                assert time.monotonic() < deadline, states
                await asyncio.sleep(0.05)
            await loop.run_in_executor(None, srv.start)
            r = await c.put(prefix + b"k", b"back")
            assert await next_batch(w) == [(EventType.PUT, prefix + b"k", b"back")]
            assert r.header.revision == w.stats.next_revision - 1
            C, S, L = ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.LOST
            assert states[:3] == [C, S, L]
            assert c.state is ConnectionState.CONNECTED and states[-1] is ConnectionState.CONNECTED

    run(body())
