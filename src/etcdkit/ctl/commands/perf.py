"""``check perf``: etcdctl's write-throughput self-test.

For the chosen load (s/m/l/xl: 150/1000/8000/15000 writes/s for 60 s) it puts 8-byte random keys
with 1 KiB values under ``--prefix`` at the target rate using non-blocking gRPC futures (bounded
to the load's client count in flight), then reports PASS/FAIL lines for throughput (> 90% of the
target), slowest request (<= 0.5 s) and standard deviation (<= 0.1 s) in etcdctl's wording, and
deletes the prefix. A hidden ``--duration`` (seconds) shortens the run for tests.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import threading
import time
from typing import Any

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_FEATURE, EXIT_ERROR, EXIT_INVALID_INPUT, CtlError

__all__ = ["LOADS", "check_perf"]

# load -> (target writes/s, concurrent clients, duration s), as etcdctl 3.4
LOADS = {"s": (150, 50, 60), "m": (1000, 200, 60), "l": (8000, 500, 60), "xl": (15000, 1000, 60)}


def check_perf(ctx: Context) -> int:
    from etcdkit.api.keys import prefix_end
    from etcdkit.api.pb import rpc_pb2

    load = ctx.values["load"]
    if load not in LOADS:
        raise CtlError(EXIT_BAD_FEATURE, f"unknown load option {load}")
    limit, clients, default_duration = LOADS[load]
    duration = float(ctx.values.get("duration") or default_duration)
    prefix = os.fsencode(ctx.values["prefix"])
    conn = ctx.conn()
    got = conn.unary("KV", "Range", rpc_pb2.RangeRequest(key=prefix, range_end=prefix_end(prefix), limit=1))
    if got.kvs:
        p = ctx.values["prefix"]
        raise CtlError(EXIT_INVALID_INPUT, f'prefix "{p}" has keys. Delete with etcdctl del --prefix {p} first')
    put = conn.method("KV", "Put")
    value = os.urandom(1024)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()  # guards latencies and errors (written from gRPC callback threads)
    inflight = threading.Semaphore(clients)
    tty = sys.stdout.isatty()

    def done(fut: Any, started: float) -> None:
        with lock:
            try:
                fut.result()
                latencies.append(time.monotonic() - started)
            except Exception as exc:  # every failure is counted, as etcdctl's report does
                details = getattr(exc, "details", None)
                text = (details() if callable(details) else None) or str(exc)
                errors[text] = errors.get(text, 0) + 1
        inflight.release()

    start = time.monotonic()
    sent = 0
    total = int(limit * duration)
    while sent < total:
        due = start + sent / limit
        now = time.monotonic()
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        if not inflight.acquire(timeout=1.0):
            continue
        key = prefix + os.urandom(8)
        t0 = time.monotonic()
        fut = put.future(rpc_pb2.PutRequest(key=key, value=value), timeout=ctx.settings().command_timeout,
                         metadata=conn.metadata or None)
        fut.add_done_callback(lambda f, t0=t0: done(f, t0))
        sent += 1
        if tty and sent % max(limit // 10, 1) == 0:
            pct = 100 * sent // total
            sys.stdout.write(f"\r {sent} / {total} [{'=' * (pct // 4):<25}] {pct}%")
            sys.stdout.flush()
    for _ in range(clients):
        inflight.acquire(timeout=ctx.settings().command_timeout + 1)
    elapsed = time.monotonic() - start
    if tty:
        sys.stdout.write("\r\x1b[K")
    last = conn.unary("KV", "DeleteRange", rpc_pb2.DeleteRangeRequest(key=prefix, range_end=prefix_end(prefix)))
    if ctx.values["auto-compact"]:
        conn.unary("KV", "Compact", rpc_pb2.CompactionRequest(revision=last.header.revision, physical=True),
                   timeout=None)
    if ctx.values["auto-defrag"]:
        conn.unary("Maintenance", "Defragment", rpc_pb2.DefragmentRequest(), timeout=None)
    ok = _report(ctx, latencies, errors, elapsed, limit)
    if not ok:
        ctx.out("FAIL\n")
        raise CtlError(EXIT_ERROR, None)
    ctx.out("PASS\n")
    return 0


def _report(ctx: Context, latencies: list[float], errors: dict[str, int], elapsed: float, limit: int) -> bool:
    ok = True
    if errors:
        ctx.out("FAIL: too many errors\n" + "".join(f"FAIL: ERROR({k}) -> {v}\n" for k, v in errors.items()))
        ok = False
    rps = len(latencies) / elapsed if elapsed > 0 else 0.0
    if rps / limit <= 0.9:
        ctx.out(f"FAIL: Throughput too low: {int(rps) + 1} writes/s\n")
        ok = False
    else:
        ctx.out(f"PASS: Throughput is {int(rps) + 1} writes/s\n")
    slowest = max(latencies, default=0.0)
    if slowest > 0.5:
        ctx.out(f"FAIL: Slowest request took too long: {slowest:f}s\n")
        ok = False
    else:
        ctx.out(f"PASS: Slowest request took {slowest:f}s\n")
    stddev = statistics.pstdev(latencies) if len(latencies) > 1 else 0.0
    if stddev > 0.1 or math.isnan(stddev):
        ctx.out(f"FAIL: Stddev too high: {stddev:f}s\n")
        ok = False
    else:
        ctx.out(f"PASS: Stddev is {stddev:f}s\n")
    return ok
