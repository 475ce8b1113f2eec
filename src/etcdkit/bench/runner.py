"""Run one configured benchmark against any etcd v3 endpoint set.

Contract: ``run(cfg)`` connects ``cfg.conns`` channels, prepares the
workload, optionally warms up for ``cfg.warmup`` seconds (not recorded),
runs the measured phase, tears down, and returns a ``BenchResult`` whose
counts have been checked (``CountMismatch`` otherwise). Connection failures
raise before any op is counted.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from etcdkit.bench.config import BenchConfig
from etcdkit.bench.driver import ChannelPool, drive
from etcdkit.bench.fanout import run_fanout
from etcdkit.bench.result import BenchResult
from etcdkit.bench.workloads import request_workload

__all__ = ["Probe", "run", "run_sync"]


class Probe(Protocol):
    """Called right around the measured phase (e.g. to read a server's CPU time)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class _NoProbe:
    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


async def run(cfg: BenchConfig, probe: Probe | None = None) -> BenchResult:
    """Run ``cfg`` once; see the module contract. ``probe`` brackets the measured phase only
    (not connection, setup, warm-up or teardown)."""
    probe = probe or _NoProbe()
    async with ChannelPool(cfg.endpoints, cfg.conns) as pool:
        await pool.ready(cfg.timeout)
        if cfg.workload == "watch":
            result = await run_fanout(cfg, pool, probe)
        else:
            result = BenchResult(workload=cfg.workload, clients=cfg.clients, conns=cfg.conns)
            wl = request_workload(cfg, pool)
            await wl.setup()
            try:
                if cfg.warmup > 0:
                    scratch = BenchResult(workload=cfg.workload, clients=cfg.clients, conns=cfg.conns)
                    await drive(wl.op, scratch, clients=cfg.clients, total=None, duration=cfg.warmup,
                                rate=cfg.rate, record=False)
                    scratch.check()
                    wl.reset()
                probe.start()
                await drive(wl.op, result, clients=cfg.clients, total=cfg.total, duration=cfg.duration,
                            rate=cfg.rate)
                probe.stop()
                result.extra.update(wl.counters())
            finally:
                await wl.teardown()
    result.check()
    return result


def run_sync(cfg: BenchConfig, probe: Probe | None = None) -> BenchResult:
    """``run`` on a fresh event loop (for scripts and the CLI)."""
    return asyncio.run(run(cfg, probe))
