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

``summary`` turns that into the JSON-able dict every child prints.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Tally", "run_tasks", "run_threads", "summary"]

STRIDE = 1_000_003  # worker w's i-th call gets w * STRIDE + i


@dataclass
class Tally:
    """Counts and latencies (ns) of one worker or of a merged run."""

    issued: int = 0
    acked: int = 0
    errors: int = 0
    latencies: list[int] = field(default_factory=list)
    first_error: str = ""

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
                t.errors += 1
                t.first_error = t.first_error or repr(e)
                now = time.perf_counter_ns()
            else:
                end = time.perf_counter_ns()
                t.acked += 1
                t.latencies.append(end - now)
                now = end
            i += 1

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = (time.perf_counter_ns() - start) / 1e9
    total = Tally()
    for t in tallies:
        total.merge(t)
    return total, seconds


async def run_tasks(op: Callable[[int], Awaitable[object]], concurrency: int, duration: float) -> tuple[Tally, float]:
    """Drive a coroutine ``op`` from ``concurrency`` tasks for ``duration`` s: (merged tally, seconds)."""
    tallies = [Tally() for _ in range(concurrency)]
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
                t.errors += 1
                t.first_error = t.first_error or repr(e)
                now = time.perf_counter_ns()
            else:
                end = time.perf_counter_ns()
                t.acked += 1
                t.latencies.append(end - now)
                now = end
            i += 1

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    seconds = (time.perf_counter_ns() - start) / 1e9
    total = Tally()
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
    }
