"""Side-by-side comparison of servers: the same cells, alternating servers round by round.

Contract:

* a ``Cell`` is a named ``BenchConfig`` template; for each round every target
  runs every cell once, the target order reversed on odd rounds (so drift on
  the machine, e.g. other load, is spread over both servers);
* for each run, the target server's CPU time (utime + stime from
  ``/proc/<pid>/stat``) is read right before and after the measured phase;
  CPU per op = total CPU seconds / total ops (events for the watch fan-out);
* per target, rounds are pooled: rate = total ops / total measured seconds,
  latency percentiles over all samples; counts are checked in every run;
* ``render_table`` gives the markdown table; targets without results (a
  server not run) show ``pending``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from etcdkit.bench.config import BenchConfig
from etcdkit.bench.latency import LatencyRecorder
from etcdkit.bench.procstat import cpu_seconds, rss_bytes
from etcdkit.bench.result import BenchResult, CountMismatch
from etcdkit.bench.runner import run_sync

__all__ = ["Cell", "CellRow", "CpuProbe", "MemoryRow", "Target", "TargetStats", "measure_idle_memory",
           "render_memory_table", "render_table", "run_cells"]


@dataclass(frozen=True, slots=True)
class Target:
    """A running server: display name, ``host:port`` and the PID whose CPU/RSS is measured."""

    name: str
    endpoint: str
    pid: int


@dataclass(frozen=True, slots=True)
class Cell:
    """One row of the table: a label and the config to run (its endpoints are replaced per target)."""

    label: str
    cfg: BenchConfig


class CpuProbe:
    """Accumulates a process's CPU seconds between ``start()`` and ``stop()`` calls."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seconds = 0.0
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = cpu_seconds(self.pid)

    def stop(self) -> None:
        if self._t0 is None:
            raise RuntimeError("stop() without start()")
        self.seconds += cpu_seconds(self.pid) - self._t0
        self._t0 = None


@dataclass(slots=True)
class TargetStats:
    """One cell's pooled results for one target."""

    ops: float = 0.0
    seconds: float = 0.0
    cpu_s: float = 0.0
    issued: int = 0
    acknowledged: int = 0
    errors: int = 0
    missing_events: float = 0.0
    latencies: LatencyRecorder = field(default_factory=LatencyRecorder)

    def add(self, r: BenchResult, cpu_s: float) -> None:
        r.check()
        self.ops += r.headline_count
        self.seconds += r.extra["delivery_s"] if r.workload == "watch" else r.elapsed_s
        self.cpu_s += cpu_s
        self.issued += r.issued
        self.acknowledged += r.acknowledged
        self.errors += r.errors
        self.missing_events += r.extra.get("events_missing", 0.0)
        self.latencies.merge(r.latencies)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us_per_op(self) -> float | None:
        return self.cpu_s / self.ops * 1e6 if self.ops else None


@dataclass(slots=True)
class CellRow:
    """One cell's pooled stats per target, and the targets on which it failed (with the reason)."""

    label: str
    unit: str
    stats: dict[str, TargetStats]
    failures: dict[str, str] = field(default_factory=dict)


def _reason(exc: BaseException) -> str:
    import grpc.aio

    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code().name
    cause = exc.__cause__ or exc.__context__
    if "UNIMPLEMENTED" in str(exc) or (cause is not None and "UNIMPLEMENTED" in str(cause)):
        return "UNIMPLEMENTED"
    return type(exc).__name__


def run_cells(
    cells: Sequence[Cell],
    targets: Sequence[Target],
    rounds: int,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> list[CellRow]:
    """Run every cell ``rounds`` times on every target, alternating the target order.

    A run that raises (e.g. a service the server does not implement) marks the
    cell failed on that target with the reason; its other rounds there are skipped.
    A run whose counts do not add up raises ``CountMismatch`` (a tool bug: never hidden).
    """
    rows = []
    for cell in cells:
        row = CellRow(cell.label, "events/s" if cell.cfg.workload == "watch" else "ops/s", {})
        for rnd in range(rounds):
            order = list(targets) if rnd % 2 == 0 else list(reversed(targets))
            for t in order:
                if t.name in row.failures:
                    continue
                cfg = dataclasses.replace(cell.cfg, endpoints=(t.endpoint,))
                probe = CpuProbe(t.pid)
                try:
                    r = run_sync(cfg, probe)
                except CountMismatch:
                    raise
                except Exception as exc:  # recorded in the table, the other target still runs
                    row.failures[t.name] = _reason(exc)
                    row.stats.pop(t.name, None)
                    log(f"{cell.label:<28} round {rnd + 1}/{rounds} {t.name:<8} failed: {exc!r}")
                    continue
                st = row.stats.setdefault(t.name, TargetStats())
                st.add(r, probe.seconds)
                cpu_op = probe.seconds / r.headline_count * 1e6 if r.headline_count else 0.0
                log(f"{cell.label:<28} round {rnd + 1}/{rounds} {t.name:<8} {r.headline_rate:>10,.0f} {row.unit}"
                    f"  p99 {(r.latencies.percentile(99) or 0) / 1e6:7.2f} ms  cpu {cpu_op:7.1f} us/op"
                    f"  errors {r.errors}")
        rows.append(row)
    return rows


def _ms(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1e6:.2f}"


def render_table(rows: Sequence[CellRow], names: Sequence[str], base: str = "etcd") -> str:
    """Markdown table: rate, ratio to ``base``, p50/p99 and CPU µs/op per target (``pending`` if not run)."""
    others = [n for n in names if n != base]
    head = ["workload", f"{base} rate", *(f"{n} rate" for n in others), *(f"{n}/{base}" for n in others)]
    for n in names:
        head += [f"{n} p50/p99 ms", f"{n} CPU us/op"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(head))) + "|"]
    for row in rows:

        def missing(n: str, row: CellRow = row) -> str:
            return f"failed ({row.failures[n]})" if n in row.failures else "pending"

        b = row.stats.get(base)
        cells = [row.label, f"{b.rate:,.0f} {row.unit}" if b else missing(base)]
        for n in others:
            s = row.stats.get(n)
            cells.append(f"{s.rate:,.0f} {row.unit}" if s else missing(n))
        for n in others:
            s = row.stats.get(n)
            cells.append(f"{s.rate / b.rate:.2f}x" if s and b and b.rate else "-" if n in row.failures else "pending")
        for n in names:
            s = row.stats.get(n)
            if s is None:
                cells += ["-", "-"] if n in row.failures else ["pending", "pending"]
                continue
            cpu = s.cpu_us_per_op
            cells += [
                f"{_ms(s.latencies.percentile(50))} / {_ms(s.latencies.percentile(99))}",
                "-" if cpu is None else f"{cpu:.0f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MemoryRow:
    """RSS of a server before and after holding ``watchers`` idle watchers on ``streams`` streams."""

    target: str
    watchers: int
    streams: int
    rss_before: int
    rss_after: int

    @property
    def bytes_per_watcher(self) -> float:
        return (self.rss_after - self.rss_before) / self.watchers


def measure_idle_memory(target: Target, watchers: int, streams: int, conns: int = 1) -> MemoryRow:
    """Open ``watchers`` idle watches on ``target`` and return its RSS before and while they are held."""
    import asyncio

    from etcdkit.bench.driver import ChannelPool
    from etcdkit.bench.fanout import IdleWatchers

    async def go() -> MemoryRow:
        async with ChannelPool([target.endpoint], conns) as pool:
            await pool.ready(10.0)
            before = rss_bytes(target.pid)
            async with IdleWatchers(pool, watchers, streams):
                after = rss_bytes(target.pid)
            return MemoryRow(target.name, watchers, streams, before, after)

    return asyncio.run(go())


def render_memory_table(rows: Sequence[MemoryRow], names: Sequence[str], base: str = "etcd") -> str:
    """Markdown table of bytes per idle watcher per target, with the ratio to ``base``."""
    by = {r.target: r for r in rows}
    lines = ["| server | watchers / streams | RSS before MiB | RSS after MiB | bytes per watcher | ratio |",
             "|---|---:|---:|---:|---:|---:|"]
    b = by.get(base)
    for n in names:
        r = by.get(n)
        if r is None:
            lines.append(f"| {n} | pending | pending | pending | pending | pending |")
            continue
        ratio = f"{r.bytes_per_watcher / b.bytes_per_watcher:.2f}x" if b and b.bytes_per_watcher > 0 else "-"
        lines.append(
            f"| {n} | {r.watchers:,} / {r.streams:,} | {r.rss_before / 2**20:.1f} | {r.rss_after / 2**20:.1f}"
            f" | {r.bytes_per_watcher:,.0f} | {ratio} |"
        )
    return "\n".join(lines)
