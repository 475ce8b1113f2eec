"""Watch workloads: event fan-out (1 writer, N watchers on one prefix) and idle watchers.

Fan-out contract:

* ``watchers`` watches on ``[prefix, prefix_end(prefix))`` are spread over
  ``streams`` Watch streams (round-robin over the connections); every
  ``created`` answer is awaited before the first write;
* the writer (``clients`` concurrent puts, usually 1) writes random keys under
  the prefix; each value starts with the 8-byte big-endian
  ``time.monotonic_ns()`` of the send, so a watcher measures delivery latency
  as ``receive - send`` on the same clock (writer and watchers share a host);
* the put counts obey ``issued == acknowledged + errors``; every watcher must
  see every acknowledged put, so ``events_expected = acknowledged * watchers``;
  after the writer stops, delivery is awaited up to ``drain_timeout`` seconds;
* ``events/s`` = delivered events over the window from the first put to the
  last delivered event; the latency samples of the result are delivery
  latencies (one per delivered event), the put latencies go to ``extra``.

Idle watchers: ``IdleWatchers`` opens ``n`` watches on distinct never-written
keys over ``streams`` streams and holds them until closed (memory per watcher).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

import grpc
import grpc.aio

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.driver import ChannelPool, drive, read_message
from etcdkit.bench.result import BenchResult
from etcdkit.bench.workloads import KeyChooser, make_value

__all__ = ["IdleWatchers", "run_fanout"]

_WatchCall = grpc.aio.StreamStreamCall[rpc_pb2.WatchRequest, rpc_pb2.WatchResponse]


class WatchFailed(RuntimeError):
    """A watch could not be created, or a stream ended early."""


def _watch_stub(ch: grpc.aio.Channel) -> rpc_pb2_grpc.WatchAsyncStub:
    return rpc_pb2_grpc.WatchStub(ch)


async def _open_stream(
    ch: grpc.aio.Channel, ranges: Sequence[tuple[bytes, bytes]], timeout: float
) -> _WatchCall:
    """Open one Watch stream and create one watch per ``(key, range_end)``; await every ``created``."""
    call: _WatchCall = _watch_stub(ch).Watch(None)
    try:
        async with asyncio.timeout(timeout):
            for key, end in ranges:
                await call.write(
                    rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=key, range_end=end))
                )
            created = 0
            while created < len(ranges):  # bounded by the timeout and by stream end
                resp = await read_message(call)
                if resp is None:
                    raise WatchFailed("watch stream ended before every watch was created")
                if resp.canceled:
                    raise WatchFailed(f"watch creation canceled: {resp.cancel_reason!r}")
                if resp.created:
                    created += 1
    except Exception as exc:
        # a write on a stream the server already ended fails with a generic error: report the status
        if call.done() and (code := await call.code()) != grpc.StatusCode.OK:
            raise WatchFailed(f"watch stream ended: {code.name}: {await call.details()}") from exc
        call.cancel()
        raise
    except BaseException:
        call.cancel()
        raise
    return call


async def _open_streams(
    pool: ChannelPool, ranges: Sequence[tuple[bytes, bytes]], streams: int, timeout: float
) -> list[_WatchCall]:
    per_stream: list[list[tuple[bytes, bytes]]] = [[] for _ in range(streams)]
    for i, r in enumerate(ranges):
        per_stream[i % streams].append(r)
    sem = asyncio.Semaphore(64)  # bound concurrent stream setups

    async def one(j: int) -> _WatchCall:
        async with sem:
            return await _open_stream(pool.for_client(j), per_stream[j], timeout)

    results = await asyncio.gather(*(one(j) for j in range(streams)), return_exceptions=True)
    calls = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        for c in calls:
            c.cancel()
        raise WatchFailed(f"{len(failures)} of {streams} watch streams failed: {failures[0]!r}")
    return calls


class _Probe(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


async def run_fanout(cfg: BenchConfig, pool: ChannelPool, probe: _Probe | None = None) -> BenchResult:
    """Run the fan-out workload; see the module contract. ``probe`` brackets writing + draining."""
    result = BenchResult(workload="watch", clients=cfg.clients, conns=cfg.conns)
    puts = BenchResult(workload="put", clients=cfg.clients, conns=cfg.conns)
    end = prefix_end(cfg.prefix)
    calls = await _open_streams(pool, [(cfg.prefix, end)] * cfg.watchers, cfg.watch_streams, cfg.timeout)
    delivered = 0
    canceled = 0
    target = -1  # set once the writer is done: all expected events delivered
    last_delivery = 0.0
    done = asyncio.Event()
    lat = result.latencies

    async def reader(call: _WatchCall) -> None:
        nonlocal delivered, canceled, last_delivery
        while True:  # ends with the stream (EOF) or when cancelled at teardown
            resp = await read_message(call)
            if resp is None:
                return
            if resp.canceled:
                canceled += 1
                continue
            if not resp.events:
                continue
            now = time.monotonic_ns()
            for ev in resp.events:
                lat.record(now - int.from_bytes(ev.kv.value[:8], "big"))
            delivered += len(resp.events)
            last_delivery = time.monotonic()
            if 0 <= target <= delivered:
                done.set()

    readers = [asyncio.create_task(reader(c)) for c in calls]
    keys = KeyChooser(cfg)
    filler = make_value(cfg.val_size, cfg.seed)[8:]
    stubs = [rpc_pb2_grpc.KVStub(ch) for ch in pool.channels]

    async def put(cid: int) -> None:
        stub: rpc_pb2_grpc.KVAsyncStub = stubs[cid % len(stubs)]
        value = time.monotonic_ns().to_bytes(8, "big") + filler
        await stub.Put(rpc_pb2.PutRequest(key=keys.next(), value=value), timeout=cfg.timeout)

    try:
        if probe is not None:
            probe.start()
        start = time.monotonic()
        await drive(put, puts, clients=cfg.clients, total=cfg.total, duration=cfg.duration, rate=cfg.rate)
        expected = puts.acknowledged * cfg.watchers
        target = expected
        if delivered >= expected:
            done.set()
        with contextlib.suppress(TimeoutError):  # a timeout is reported as missing events
            await asyncio.wait_for(done.wait(), cfg.drain_timeout)
        if probe is not None:
            probe.stop()
    finally:
        for c in calls:
            c.cancel()
        for t in readers:
            t.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    result.issued, result.acknowledged, result.errors = puts.issued, puts.acknowledged, puts.errors
    result.error_kinds = puts.error_kinds
    result.elapsed_s = puts.elapsed_s
    ps = puts.latencies.summary()
    result.extra.update(
        {
            "watchers": float(cfg.watchers),
            "streams": float(cfg.watch_streams),
            "events_expected": float(expected),
            "events_delivered": float(delivered),
            "events_missing": float(max(0, expected - delivered)),
            "watch_canceled": float(canceled),
            "delivery_s": max(0.0, last_delivery - start) if delivered else 0.0,
            "put_ops_per_s": round(puts.ops_per_s, 2),
            "put_p50_ms": round((ps.p50_ns or 0) / 1e6, 4),
            "put_p99_ms": round((ps.p99_ns or 0) / 1e6, 4),
        }
    )
    return result


class IdleWatchers:
    """``n`` watches on distinct never-written keys under ``prefix``, held open until ``close()``."""

    def __init__(self, pool: ChannelPool, n: int, streams: int, prefix: bytes = b"/bench-idle/",
                 timeout: float = 60.0) -> None:
        if n < 1 or streams < 1:
            raise ValueError("need n >= 1 and streams >= 1")
        self.pool = pool
        self.n = n
        self.streams = min(streams, n)
        self.prefix = prefix
        self.timeout = timeout
        self.calls: list[_WatchCall] = []

    async def open(self) -> None:
        """Create every watch; returns once each one is confirmed ``created``."""
        ranges = [(self.prefix + b"%08d" % i, b"") for i in range(self.n)]
        self.calls = await _open_streams(self.pool, ranges, self.streams, self.timeout)

    async def close(self) -> None:
        for c in self.calls:
            c.cancel()
        self.calls = []

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
