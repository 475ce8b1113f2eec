"""Fixed-duration closed-loop drivers shared by every client of bench/clients.py.

Stdlib only: imported both by etcdkit's side (``bench/clients.py``) and by the
third-party side (``bench/_other_clients.py``, which runs in virtualenvs that
cannot import etcdkit).

Contract of ``run_threads`` / ``run_tasks``:

* ``concurrency`` workers (threads, or tasks on the running loop) each call
  ``op(i)`` back to back (``i`` counts that worker's calls, offset so workers
  touch different keys) until ``duration`` seconds have passed since the start;
  a call in flight at the deadline is finished and counted;
* every call is counted as issued before it starts and as acknowledged (its
  latency recorded) or as an error when it ends, so ``issued == acked + errors``;
* ``seconds`` is measured from the start until the last worker ended.

``summary`` turns that into the JSON-able dict every child prints, including
``cpu_us_per_op``: this process's CPU time (``time.process_time``, every
thread) over the run divided by acknowledged ops (watch cells: writer and
watcher together, per delivered event) — the client's cost per call, far less
sensitive to other load on the machine than ops/s.

``WatchMeter`` is the watch cell's bookkeeping (1 writer, 1 watcher): the
writer's puts carry their issue time (``perf_counter_ns``, first 8 bytes of the
256-byte value), the watcher hands every event to ``seen`` until the writer's
end marker arrives, and ``summary`` reports events delivered per second from
the writer's start to the marker, delivery latency, and ``events`` next to the
writer's ``issued``/``acked``/``errors`` (every acknowledged put must arrive).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["Tally", "WatchMeter", "run_tasks", "run_threads", "run_watch_tasks", "run_watch_threads", "summary"]

END_TIMEOUT = 30.0  # seconds the watcher may lag behind the writer before the cell gives up on the end marker

STRIDE = 1_000_003  # worker w's i-th call gets w * STRIDE + i


@dataclass
class Tally:
    """Counts and latencies (ns) of one worker or of a merged run."""

    issued: int = 0
    acked: int = 0
    errors: int = 0
    latencies: list[int] = field(default_factory=list)
    first_error: str = ""
    cpu_s: float = 0.0  # this process's CPU time (all threads) over the run; set on the merged tally

    def failed(self, e: Exception) -> None:
        """Count a call that raised ``e`` (the first error's repr is kept)."""
        self.errors += 1
        self.first_error = self.first_error or repr(e)

    def succeeded(self, start_ns: int, end_ns: int) -> None:
        """Count an acknowledged call and its latency."""
        self.acked += 1
        self.latencies.append(end_ns - start_ns)

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts and samples."""
        self.issued += other.issued
        self.acked += other.acked
        self.errors += other.errors
        self.latencies.extend(other.latencies)
        self.first_error = self.first_error or other.first_error


def run_threads(op: Callable[[int], object], concurrency: int, duration: float) -> tuple[Tally, float]:
    """Drive a blocking ``op`` from ``concurrency`` threads for ``duration`` s: (merged tally, seconds)."""
    tallies = [Tally() for _ in range(concurrency)]
    cpu0 = time.process_time()
    start = time.perf_counter_ns()
    stop = start + int(duration * 1e9)

    def worker(w: int) -> None:
        t = tallies[w]
        i = w * STRIDE
        now = time.perf_counter_ns()
        while now < stop:
            t.issued += 1
            try:
                op(i)
            except Exception as e:
                t.failed(e)
                now = time.perf_counter_ns()
            else:
                end = time.perf_counter_ns()
                t.succeeded(now, end)
                now = end
            i += 1

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = (time.perf_counter_ns() - start) / 1e9
    total = Tally(cpu_s=time.process_time() - cpu0)
    for t in tallies:
        total.merge(t)
    return total, seconds


async def run_tasks(op: Callable[[int], Awaitable[object]], concurrency: int, duration: float) -> tuple[Tally, float]:
    """Drive a coroutine ``op`` from ``concurrency`` tasks for ``duration`` s: (merged tally, seconds)."""
    tallies = [Tally() for _ in range(concurrency)]
    cpu0 = time.process_time()
    start = time.perf_counter_ns()
    stop = start + int(duration * 1e9)

    async def worker(w: int) -> None:
        t = tallies[w]
        i = w * STRIDE
        now = time.perf_counter_ns()
        while now < stop:
            t.issued += 1
            try:
                await op(i)
            except Exception as e:
                t.failed(e)
                now = time.perf_counter_ns()
            else:
                end = time.perf_counter_ns()
                t.succeeded(now, end)
                now = end
            i += 1

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    seconds = (time.perf_counter_ns() - start) / 1e9
    total = Tally(cpu_s=time.process_time() - cpu0)
    for t in tallies:
        total.merge(t)
    return total, seconds


def _nearest_rank(ascending: list[int], p: float) -> int:
    rank = math.ceil(p / 100.0 * len(ascending))
    return ascending[min(max(rank, 1), len(ascending)) - 1]


def summary(tally: Tally, seconds: float) -> dict[str, object]:
    """Counts, ops/s (acknowledged per second) and p50/p99 latency in ms (``None`` without samples)."""
    lat = sorted(tally.latencies)
    return {
        "issued": tally.issued,
        "acked": tally.acked,
        "errors": tally.errors,
        "first_error": tally.first_error,
        "seconds": seconds,
        "ops_per_s": tally.acked / seconds if seconds > 0 else 0.0,
        "p50_ms": _nearest_rank(lat, 50) / 1e6 if lat else None,
        "p99_ms": _nearest_rank(lat, 99) / 1e6 if lat else None,
        "cpu_us_per_op": tally.cpu_s / tally.acked * 1e6 if tally.acked else None,
    }


class WatchMeter:
    """Keys, stamped values and counts of one watch cell (see the module contract)."""

    def __init__(self) -> None:
        self.prefix = b"/bench-watch/%08d/" % (os.getpid() % 10**8)  # 22 bytes: keys are 32
        self.end_key = self.prefix + b"~end"
        self.events = 0
        self.latencies: list[int] = []
        self.start_ns = time.perf_counter_ns()
        self.end_ns = 0
        self.start_cpu = time.process_time()
        self.end_cpu = 0.0

    def start(self) -> None:
        """The writer starts now (the watch is already created)."""
        self.start_ns = time.perf_counter_ns()
        self.start_cpu = time.process_time()

    def key(self, i: int) -> bytes:
        """The writer's ``i``-th key (32 bytes)."""
        return self.prefix + b"%010d" % (i % 10**10)

    def value(self) -> bytes:
        """A 256-byte value stamped with now."""
        return struct.pack(">q", time.perf_counter_ns()) + b"w" * 248

    def seen(self, key: bytes, value: bytes) -> bool:
        """Count one delivered event; true once the end marker arrived (the watcher should stop)."""
        now = time.perf_counter_ns()
        if key == self.end_key:
            self.end_ns = now
            self.end_cpu = time.process_time()
            return True
        self.events += 1
        self.latencies.append(now - struct.unpack(">q", value[:8])[0])
        return False

    def summary(self, writer: Tally) -> dict[str, object]:
        """The writer's counts plus ``events``; ops/s and latencies are the watcher's."""
        end = self.end_ns or time.perf_counter_ns()
        seconds = (end - self.start_ns) / 1e9
        delivered = Tally(writer.issued, writer.acked, writer.errors, self.latencies, writer.first_error)
        out = summary(delivered, seconds)
        out["ops_per_s"] = self.events / seconds if seconds > 0 else 0.0
        out["events"] = self.events
        out["end_seen"] = bool(self.end_ns)
        # CPU of writer + watcher (one process) per delivered event
        out["cpu_us_per_op"] = (
            (self.end_cpu - self.start_cpu) / self.events * 1e6 if self.events and self.end_cpu else None
        )
        return out


def run_watch_threads(
    events: Iterable[tuple[bytes, bytes]], put: Callable[[bytes, bytes], object], meter: WatchMeter, duration: float
) -> dict[str, object]:
    """Watch cell for a blocking client: ``events`` (key, value) of a created watch on ``meter.prefix`` are
    consumed on a thread while this thread ``put``s for ``duration`` s, then the end marker; the caller
    cancels the watch afterwards."""
    done = threading.Event()

    def watcher() -> None:
        try:
            for k, v in events:
                if meter.seen(k, v):
                    break
        finally:
            done.set()

    threading.Thread(target=watcher, daemon=True).start()
    meter.start()
    tally, _ = run_threads(lambda i: put(meter.key(i), meter.value()), 1, duration)
    put(meter.end_key, meter.value())
    done.wait(END_TIMEOUT)
    return meter.summary(tally)


async def run_watch_tasks(
    events: AsyncIterator[tuple[bytes, bytes]],
    put: Callable[[bytes, bytes], Awaitable[object]],
    meter: WatchMeter,
    duration: float,
) -> dict[str, object]:
    """Watch cell for an asyncio client: as ``run_watch_threads`` with the watcher as a task."""

    async def watcher() -> None:
        async for k, v in events:
            if meter.seen(k, v):
                return

    task = asyncio.create_task(watcher())
    meter.start()
    tally, _ = await run_tasks(lambda i: put(meter.key(i), meter.value()), 1, duration)
    await put(meter.end_key, meter.value())
    with contextlib.suppress(TimeoutError):  # counted: end_seen is false, events < acked
        await asyncio.wait_for(task, END_TIMEOUT)
    return meter.summary(tally)


def timed_threads(worker: Callable[[], None], count: int) -> tuple[float, float]:
    """Run ``worker`` in ``count`` threads started together; return (wall seconds, this process's CPU
    seconds) from the start until the last one ended (the lock benchmarks' sides share this)."""
    threads = [threading.Thread(target=worker) for _ in range(count)]
    start, cpu = time.monotonic(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - start, time.process_time() - cpu
