#!/usr/bin/env python3
"""Side-by-side watch benchmark: real etcd vs etcdkit (issue #3 targets).

Cells: event fan-out with 1 writer and 100 / 1,000 watchers on one prefix,
both at saturation (writer unthrottled for a bounded number of puts) and at a
fixed offered load of 10,000 events/s; then memory per idle watcher (RSS
delta of the server after 10,000 idle watchers on 100 streams). Same
alternation, CPU accounting and output as bench/kv.py.

    PYTHONPATH=src python bench/watch.py --targets etcd
    PYTHONPATH=src python bench/watch.py --grpc-floor   # the transport's own cost, no etcdkit code
    PYTHONPATH=src python bench/watch.py --fanout-floor --paced 2500,5000,10000   # + the fan-out floor

``--fanout-floor`` adds a third server to the fan-out cells, "floor": the
least any grpc.aio server must do to serve them (bench/_floor_etcd.py: no
storage, one pre-encoded message per watch per put, queued messages merged).
Its rate, delivery latency and CPU per event bound what etcdkit's watch engine
can reach on this transport and machine. It serves only Put and Watch, so the
memory cell leaves it out.

``--grpc-floor`` measures what any grpc.aio server pays per streamed message
on this machine: a bare server (own process) whose handlers yield a
pre-encoded 350-byte message per tick to 100 streams over 4 connections,
like one revision fanned out; reported as server CPU per message. It is the
floor under etcdkit's "CPU per delivered event" (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _floor_etcd import floor_etcd
from _spawn import spawned_server

from etcdkit.bench.compare import Cell, Target, measure_idle_memory, render_memory_table, render_table, run_cells
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.procstat import cpu_seconds
from etcdkit.bench.sidebyside import add_common_args, header, parse_targets, started_targets, write_report

ROOT = Path(__file__).resolve().parent.parent
EVENTS_AT_SATURATION = 30_000  # per run: bounds the drain time of a saturated run


def paced_label(rate: float) -> str:
    """``10000`` -> ``"10k"``, ``2500`` -> ``"2.5k"``, ``500`` -> ``"500"``."""
    return f"{rate / 1000:g}k" if rate >= 1000 else f"{rate:g}"


def cells(duration: float, paced: tuple[float, ...] = (10_000,)) -> list[Cell]:
    """Fan-out cells: 100 and 1,000 watchers, saturated and at each offered rate of ``paced``
    (delivered events/s offered: the writer puts ``rate / watchers`` times per second)."""
    out = []
    for n in (100, 1000):
        common = {
            "workload": "watch",
            "watchers": n,
            "clients": 1,
            "conns": 4,
            "key_size": 32,
            "val_size": 256,
            "prefix": b"/bench-fanout/",
            "drain_timeout": 30.0,
        }
        out.append(Cell(f"fan-out 1x{n} saturated", BenchConfig(total=EVENTS_AT_SATURATION // n, **common)))  # type: ignore[arg-type]
        for rate in paced:
            label = f"fan-out 1x{n} @{paced_label(rate)} ev/s"
            out.append(Cell(label, BenchConfig(duration=duration, rate=rate / n, **common)))  # type: ignore[arg-type]
    return out


@contextlib.contextmanager
def fanout_floor_target() -> Iterator[Target]:
    """The fan-out floor server (bench/_floor_etcd.py) as a target named "floor"; killed (by PID) on exit."""
    with spawned_server(floor_etcd) as (port, pid):
        yield Target("floor", f"127.0.0.1:{port}", pid)


def _floor_server(port_q: Any, go: Any, ticks: int, size: int) -> None:
    """Child process: a grpc.aio server; each stream gets one message per tick (1 ms apart)."""
    import grpc

    async def serve() -> None:
        tick = asyncio.Condition()
        now = [0]

        async def handler(_requests: Any, _context: Any) -> Any:
            msg, seen = b"x" * size, 0
            while seen < ticks:
                async with tick:
                    await tick.wait_for(lambda s=seen: now[0] > s)  # type: ignore[misc]
                while seen < now[0]:
                    seen += 1
                    yield msg

        method = grpc.stream_stream_rpc_method_handler(
            handler, request_deserializer=bytes, response_serializer=lambda b: b
        )
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("floor.S", {"M": method}),))
        port_q.put(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        for _ in range(ticks):
            async with tick:
                now[0] += 1
                tick.notify_all()
            await asyncio.sleep(0.001)
        await server.wait_for_termination(timeout=60)

    asyncio.run(serve())


def grpc_floor(streams: int = 100, conns: int = 4, ticks: int = 300, size: int = 350) -> tuple[float, float]:
    """Server CPU seconds per message and messages/s of the bare grpc.aio fan-out (see module doc)."""
    import grpc.aio

    go = mp.get_context("spawn").Event()
    with spawned_server(_floor_server, go, ticks, size) as (port, pid):

        async def client() -> tuple[int, float, float]:  # channels as Any: grpc-stubs types the sync API
            chans: list[Any] = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(conns)]
            try:
                calls = [chans[i % conns].stream_stream("/floor.S/M")() for i in range(streams)]
                for ch in chans:
                    await ch.channel_ready()
                cpu0, t0 = cpu_seconds(pid), time.monotonic()
                go.set()

                async def drain(call: Any) -> int:
                    return sum([1 async for _ in call])

                n = sum(await asyncio.gather(*(drain(c) for c in calls)))
                return n, cpu_seconds(pid) - cpu0, time.monotonic() - t0
            finally:
                for ch in chans:
                    await ch.close()

        n, cpu, wall = asyncio.run(client())
    if n != streams * ticks:
        raise RuntimeError(f"grpc floor: {n} messages, expected {streams * ticks}")
    return cpu / n, n / wall


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "watch")
    p.add_argument("--idle-watchers", type=int, default=10_000, help="idle watchers for the memory cell")
    p.add_argument("--idle-streams", type=int, default=100, help="streams carrying them")
    p.add_argument(
        "--paced",
        default="10000",
        help="comma-separated offered event rates (delivered events/s) of the paced cells (default 10000); "
        "a rate below both servers' capacity shows delivery latency without queueing",
    )
    p.add_argument(
        "--grpc-floor",
        action="store_true",
        help="only measure a bare grpc.aio server's CPU per streamed message (no etcd/etcdkit)",
    )
    p.add_argument(
        "--fanout-floor",
        action="store_true",
        help="also run the fan-out cells against a server that only does grpc.aio's sends (bench/_floor_etcd.py)",
    )
    a = p.parse_args(argv)
    if a.grpc_floor:
        for rnd in range(a.rounds):
            per_msg, rate = grpc_floor()
            print(
                f"grpc.aio floor round {rnd + 1}/{a.rounds}: {per_msg * 1e6:.1f} us server CPU per message, "
                f"{rate:,.0f} messages/s (100 streams, 4 connections, 350 B, 1 message per stream per tick)"
            )
        return 0
    names = parse_targets(a.targets)
    duration, rounds = (10.0, 3) if a.long else (a.duration, a.rounds)
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    paced = tuple(float(r) for r in a.paced.split(",") if r.strip())
    selected = [c for c in cells(duration, paced) if not only or c.label in only]
    with started_targets(names) as targets, contextlib.ExitStack() as stack:
        # memory first, on fresh servers, so history from the fan-out runs does not blur the delta
        mem = []
        for t in targets:
            try:
                m = measure_idle_memory(t, a.idle_watchers, a.idle_streams)
            except Exception as exc:  # e.g. no Watch service yet: that row shows "pending"
                print(f"idle watchers {t.name}: failed: {exc!r}", file=sys.stderr)
                continue
            mem.append(m)
            print(f"idle watchers {m.target}: {m.bytes_per_watcher:,.0f} B/watcher", file=sys.stderr)
        if a.fanout_floor:
            targets = [*targets, stack.enter_context(fanout_floor_target())]
        rows = run_cells(selected, targets, rounds)
    all_names = ["etcd", "etcdkit", *(["floor"] if a.fanout_floor else [])]
    offered = ", ".join(paced_label(r) for r in paced)
    settings = (
        f"saturated cells: 1 writer, {EVENTS_AT_SATURATION:,} events per run; "
        f"paced cells: {duration:g} s at {offered} events/s offered; "
        f"{rounds} rounds alternating; one stream per watcher over 4 connections; 32 B keys, 256 B values "
        f"(first 8 bytes: send timestamp); servers: {', '.join(names)}. Rate = events delivered/s, "
        f"latency = delivery latency, CPU = server CPU per delivered event."
    )
    section = (
        header("Watch side by side (bench/watch.py)", settings)
        + "\n"
        + render_table(rows, all_names)
        + f"\n\nMemory per idle watcher ({a.idle_watchers:,} watchers on {a.idle_streams} streams, "
        "RSS delta; includes the streams' own cost):\n\n" + render_memory_table(mem, ["etcd", "etcdkit"]) + "\n"
    )
    out = write_report(ROOT, a.name, section, a.append_docs)
    print(section)
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
