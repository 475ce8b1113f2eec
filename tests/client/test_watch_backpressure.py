"""Bounded watch delivery: a consumer that stops reading does not grow the client's memory.

Policy under test (docs/client.md, "Slow consumers"): each watch queues at
most ``max_queued_events`` events (plus one response, since a revision is
never split). A watch that fills its queue on the shared stream moves to a
stream of its own, where the client stops reading until the consumer makes
room; the other watches, and unary calls on the same connection, keep
flowing. Nothing is lost, repeated or reordered, a paused watch survives a
server restart, and a paused stream is not mistaken for a stalled server.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from etcdkit.client import AsyncClient, Client, ClientConfig, EventType, Watch, WatchConfig
from etcdkit.client._protocol.watch_core import (
    Deliver,
    SendCancel,
    SendCreate,
    SendProgress,
    WatchCore,
    WatchResponseIn,
    WatchSpec,
)
from etcdkit.client.types import Event, KeyValue, ResponseHeader
from etcdkit.testing import ServerProcess, wait_until
from tests.client.conftest import run

MAX = 64
FAST = WatchConfig(
    progress_interval=0.3, stall_timeout=1.0, backoff_initial=0.05, backoff_max=0.3, max_queued_events=MAX
)


def _config(endpoint: str) -> ClientConfig:
    return ClientConfig(endpoints=(endpoint,), dial_timeout=2.0, request_timeout=10.0, watch=FAST)


async def _until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``pred`` on the event loop (bounded), so the client's tasks keep running meanwhile."""
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.01)
    assert pred(), what


async def _read(w: Watch, n: int, timeout: float = 60.0) -> tuple[list[tuple[int, bytes]], int]:
    """Read until ``n`` events arrived; return them as (revision, value) and the largest batch size."""
    got: list[tuple[int, bytes]] = []
    largest = 0
    async with asyncio.timeout(timeout):
        while len(got) < n:
            batch = await w.__anext__()
            largest = max(largest, len(batch.events))
            got.extend((e.kv.mod_revision, e.kv.value) for e in batch.events)
    return got, largest


async def _write(c: AsyncClient, key_prefix: bytes, start: int, n: int) -> list[tuple[int, bytes]]:
    """Write ``n`` numbered values, 50 at a time concurrently; return (revision, value) in revision order."""
    written: list[tuple[int, bytes]] = []
    for lo in range(start, start + n, 50):
        values = [b"%d" % i for i in range(lo, min(lo + 50, start + n))]
        resps = await asyncio.gather(*(c.put(key_prefix + b"%d" % (int(v) % 7), v) for v in values))
        written.extend((r.header.revision, v) for r, v in zip(resps, values, strict=True))
    return sorted(written)


# --- the core's side (no server) ---------------------------------------------------------


def _core() -> WatchCore:
    return WatchCore(progress_interval=1.0, stall_timeout=3.0, backoff_initial=0.1, backoff_max=1.0, rng=random.random)


def _event(rev: int) -> Event:
    return Event(EventType.PUT, KeyValue(b"k", b"v%d" % rev, mod_revision=rev))


def test_core_detach_and_resume_keep_position_and_counters() -> None:
    old, new = _core(), _core()
    old.stream_opened(0.0)
    wid, _ = old.add(WatchSpec(key=b"k"))
    old.response(WatchResponseIn(watch_id=7, header=ResponseHeader(revision=10), created=True), 0.0)
    acts = old.response(WatchResponseIn(watch_id=7, header=ResponseHeader(revision=12), events=(_event(11),)), 0.0)
    assert [type(a) for a in acts] == [Deliver]
    state, acts = old.detach(wid)
    assert state is not None and state.next_revision == 12 and acts == [SendCancel(7)]
    assert not old.has(wid) and old.detach(wid) == (None, [])
    # A response still in flight on the old stream is dropped there...
    assert (
        old.response(WatchResponseIn(watch_id=7, header=ResponseHeader(revision=13), events=(_event(12),)), 0.0) == []
    )
    # ...and asked for again on the new one, at last delivered + 1, with the counters carried over.
    new.stream_opened(0.0)
    wid2, acts = new.add(WatchSpec(key=b"ignored"), resume=state)
    assert acts == [SendCreate(wid2, WatchSpec(key=b"k"), 12)]
    assert new.stats(wid2).events == 1 and new.stats(wid2).next_revision == 12


@settings(max_examples=200, deadline=None)
@given(
    revs_per_response=st.lists(st.integers(1, 4), min_size=1, max_size=30),
    moved_after=st.integers(0, 30),
    in_flight=st.integers(0, 5),
)
def test_core_move_between_streams_never_misses_or_repeats(
    revs_per_response: list[int], moved_after: int, in_flight: int
) -> None:
    """Deliver some responses on stream A, move the watch, keep feeding A (in flight), replay on B."""
    head = 1 + sum(revs_per_response)  # revisions 2..head exist
    old, new = _core(), _core()
    old.stream_opened(0.0)
    wid, _ = old.add(WatchSpec(key=b"k", start_revision=2))
    old.response(WatchResponseIn(watch_id=3, header=ResponseHeader(revision=head), created=True), 0.0)
    delivered: list[int] = []

    def feed(core: WatchCore, server_id: int, start: int, responses: list[int]) -> int:
        rev = start
        for n in responses:
            evs = tuple(_event(r) for r in range(rev, min(rev + n, head + 1)))
            rev += n
            if not evs:
                break
            resp = WatchResponseIn(watch_id=server_id, header=ResponseHeader(revision=head), events=evs)
            for a in core.response(resp, 0.0):
                assert isinstance(a, Deliver)
                delivered.extend(e.kv.mod_revision for e in a.batch.events)
        return rev

    sent = revs_per_response[:moved_after]
    rev = feed(old, 3, 2, sent)
    state, _ = old.detach(wid)
    assert state is not None
    feed(old, 3, rev, revs_per_response[moved_after : moved_after + in_flight])  # still in flight: dropped
    new.stream_opened(0.0)
    wid2, acts = new.add(WatchSpec(key=b""), resume=state)
    (create,) = acts
    assert isinstance(create, SendCreate) and create.start_revision == (delivered[-1] + 1 if delivered else 2)
    new.response(WatchResponseIn(watch_id=9, header=ResponseHeader(revision=head), created=True), 0.0)
    feed(new, 9, create.start_revision, [2] * head)  # the server replays from the create's revision
    assert delivered == list(range(2, head + 1))
    assert new.stats(wid2).events == head - 1


def test_core_pause_suspends_stall_detection() -> None:
    core = _core()
    core.stream_opened(0.0)
    core.add(WatchSpec(key=b"k"))
    core.pause()
    assert core.tick(100.0) == []  # we are not reading: silence is ours, no stall, no progress request
    assert core.stream_open
    core.unpause(100.0)
    assert core.tick(100.5) == []
    assert core.tick(101.0) == [SendProgress()]  # the silence clock restarted at unpause
    assert any(a.rotate for a in core.tick(103.0) if hasattr(a, "rotate"))  # a real stall is still caught


# --- against a server ------------------------------------------------------------------


def test_slow_consumer_is_bounded_and_gets_everything(endpoint: str, prefix: bytes) -> None:
    n = 4000

    async def body() -> None:
        async with AsyncClient(_config(endpoint)) as c:
            slow = await c.watch(prefix + b"slow/", prefix=True)
            fast = await c.watch(prefix + b"fast/", prefix=True)
            written: list[tuple[int, bytes]] = []
            for round_ in range(4):
                written += await _write(c, prefix + b"slow/", round_ * n // 4, n // 4)
                # The other watch on the client keeps flowing while `slow` is not read.
                r = await c.put(prefix + b"fast/k", b"%d" % round_)
                got, _ = await _read(fast, 1, timeout=10)
                assert got == [(r.header.revision, b"%d" % round_)]
            await _until(lambda: slow.stats.pauses >= 1, 10, what="the slow watch's stream paused")
            # Let several stall timeouts pass while nothing is read: a slow consumer is not a stalled server.
            await asyncio.sleep(FAST.stall_timeout * 3)
            st = slow.stats
            assert st.own_stream and not fast.stats.own_stream
            assert st.queued < MAX + 1000 < n  # bounded: most events are still on the server
            got, largest = await _read(slow, n)
            assert got == written  # every event, once, in revision order
            st = slow.stats
            assert st.queued_peak <= MAX - 1 + largest, (st, largest)
            assert st.reconnects == 0 and st.queued == 0 and st.events == n
            # Still live on its own stream after catching up.
            r = await c.put(prefix + b"slow/after", b"x")
            assert await _read(slow, 1, timeout=10) == ([(r.header.revision, b"x")], 1)

    run(body(), timeout=180)


def test_paused_watch_resumes_after_server_restart(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()
    n = 1000

    async def body() -> None:
        async with AsyncClient(_config(srv.endpoint)) as c:
            w = await c.watch(prefix, prefix=True)
            written = await _write(c, prefix, 0, n)
            await _until(lambda: w.stats.pauses >= 1, 10, what="the watch's stream paused")
            await asyncio.get_running_loop().run_in_executor(None, srv.restart)
            written += await _write(c, prefix, n, 100)
            got, _ = await _read(w, n + 100)
            assert got == written
            assert w.stats.reconnects >= 1  # the restart was noticed once reading resumed

    run(body(), timeout=180)


def test_blocking_client_watch_is_bounded(endpoint: str, prefix: bytes) -> None:
    with Client(_config(endpoint)) as c:
        w = c.watch(prefix, prefix=True)
        revs = [c.put(prefix + b"k", b"%d" % i).header.revision for i in range(3 * MAX)]
        wait_until(lambda: w.stats.pauses >= 1, 10, what="the watch's stream paused")
        assert w.stats.own_stream and w.stats.queued < 3 * MAX
        got: list[int] = []
        while len(got) < len(revs):
            batch = w.next(timeout=10)
            assert batch is not None
            got.extend(e.kv.mod_revision for e in batch.events)
        assert got == revs
        w.close()
