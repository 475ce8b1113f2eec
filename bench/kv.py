#!/usr/bin/env python3
"""Side-by-side KV benchmark: real etcd vs etcdkit (issue #2 targets).

Starts each server itself (free loopback ports, temporary data dirs), runs
the same cells against both, alternating the server order round by round, and
prints a markdown table (rate, ratio, p50/p99, server CPU per op), written to
bench/results/<name>.md (and appended to docs/benchmarks.md with
--append-docs). Until our server lands, run with ``--targets etcd``.

    PYTHONPATH=src python bench/kv.py --targets etcd
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
    """Issue #2 cells: put at 1/16/64/256, range (s and l) at 1/64, txn at 64; 32 B keys, 256 B values."""
    base = BenchConfig(duration=duration, key_size=32, val_size=256, key_space=1000, warmup=0.3)

    def c(label: str, workload: str, clients: int, *, serializable: bool = False) -> Cell:
        conns = max(1, min(clients // 16, 8))
        return Cell(
            label, dataclasses.replace(base, workload=workload, clients=clients, conns=conns, serializable=serializable)
        )

    return [
        c("put c=1", "put", 1),
        c("put c=16", "put", 16),
        c("put c=64", "put", 64),
        c("put c=256", "put", 256),
        c("range serializable c=1", "range", 1, serializable=True),
        c("range serializable c=64", "range", 64, serializable=True),
        c("range linearizable c=1", "range", 1),
        c("range linearizable c=64", "range", 64),
        c("txn compare-and-put c=64", "txn", 64),
    ]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "kv")
    a = p.parse_args(argv)
    names = parse_targets(a.targets)
    duration, rounds = (10.0, 3) if a.long else (a.duration, a.rounds)
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    selected = [c for c in cells(duration) if not only or c.label in only]
    with started_targets(names) as targets:
        rows = run_cells(selected, targets, rounds)
    all_names = ["etcd", "etcdkit"]  # both columns always shown; a server not run is "pending"
    settings = (
        f"{duration:g} s per cell per server per round, {rounds} rounds alternating; "
        f"keys 32 B from a space of 1000, values 256 B; conns = clients/16 (1..8); "
        f"servers: {', '.join(names)}."
    )
    section = header("KV side by side (bench/kv.py)", settings) + "\n" + render_table(rows, all_names) + "\n"
    out = write_report(ROOT, a.name, section, a.append_docs)
    print(section)
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
