#!/usr/bin/env python3
"""Side-by-side lease benchmark: real etcd vs etcdkit (issue #4 throughput targets).

Starts each server itself (free loopback ports, temporary data dirs), runs
the same cells against both, alternating the server order round by round, and
prints a markdown table (rate, ratio, p50/p99, server CPU per op), written to
bench/results/<name>.md (and appended to docs/benchmarks.md with
--append-docs).

Cells: LeaseGrant (server-chosen id, TTL 60 s) closed loop at 1, 16 and 64
clients; LeaseKeepAlive round trips on one stream and on 16 streams (one
client per stream, one request in flight per stream). Granted leases are
revoked after each measured phase.

    PYTHONPATH=src python bench/lease.py
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from etcdkit.bench.compare import Cell, render_table, run_cells
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.sidebyside import add_common_args, header, parse_targets, started_targets, write_report

ROOT = Path(__file__).resolve().parent.parent


def cells(duration: float) -> list[Cell]:
    """Issue #4 cells: grant at 1/16/64 clients, keep-alive on 1 and 16 streams."""
    base = BenchConfig(duration=duration, lease_ttl=60, warmup=0.3)

    def c(label: str, workload: str, clients: int) -> Cell:
        conns = max(1, min(clients // 16, 8))
        return Cell(label, dataclasses.replace(base, workload=workload, clients=clients, conns=conns))

    return [
        c("grant c=1", "lease-grant", 1),
        c("grant c=16", "lease-grant", 16),
        c("grant c=64", "lease-grant", 64),
        c("keep-alive 1 stream", "lease", 1),
        c("keep-alive 16 streams", "lease", 16),
    ]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "lease")
    a = p.parse_args(argv)
    names = parse_targets(a.targets)
    duration, rounds = (10.0, 3) if a.long else (a.duration, a.rounds)
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    selected = [c for c in cells(duration) if not only or c.label in only]
    with started_targets(names) as targets:
        rows = run_cells(selected, targets, rounds)
    all_names = ["etcd", "etcdkit"]
    settings = (f"{duration:g} s per cell per server per round, {rounds} rounds alternating; "
                f"grants: TTL 60 s, server-chosen ids, revoked after each run; keep-alive: one lease per stream, "
                f"one request in flight per stream; conns = clients/16 (1..8); servers: {', '.join(names)}.")
    section = header("Leases side by side (bench/lease.py)", settings) + "\n" + render_table(rows, all_names) + "\n"
    out = write_report(ROOT, a.name, section, a.append_docs)
    print(section)
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
