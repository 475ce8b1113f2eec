#!/usr/bin/env python3
"""Side-by-side watch benchmark: real etcd vs etcdkit (issue #3 targets).

Cells: event fan-out with 1 writer and 100 / 1,000 watchers on one prefix,
both at saturation (writer unthrottled for a bounded number of puts) and at a
fixed offered load of 10,000 events/s; then memory per idle watcher (RSS
delta of the server after 10,000 idle watchers on 100 streams). Same
alternation, CPU accounting and output as bench/kv.py.

    PYTHONPATH=src python bench/watch.py --targets etcd
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etcdkit.bench.compare import Cell, measure_idle_memory, render_memory_table, render_table, run_cells
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.sidebyside import add_common_args, header, parse_targets, started_targets, write_report

ROOT = Path(__file__).resolve().parent.parent
EVENTS_AT_SATURATION = 30_000  # per run: bounds the drain time of a saturated run


def cells(duration: float) -> list[Cell]:
    """Fan-out cells: 100 and 1,000 watchers, saturated and at 10k events/s."""
    out = []
    for n in (100, 1000):
        common = {"workload": "watch", "watchers": n, "clients": 1, "conns": 4, "key_size": 32, "val_size": 256,
                  "prefix": b"/bench-fanout/", "drain_timeout": 30.0}
        out.append(Cell(f"fan-out 1x{n} saturated",
                        BenchConfig(total=EVENTS_AT_SATURATION // n, **common)))  # type: ignore[arg-type]
        out.append(Cell(f"fan-out 1x{n} @10k ev/s",
                        BenchConfig(duration=duration, rate=10_000 / n, **common)))  # type: ignore[arg-type]
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "watch")
    p.add_argument("--idle-watchers", type=int, default=10_000, help="idle watchers for the memory cell")
    p.add_argument("--idle-streams", type=int, default=100, help="streams carrying them")
    a = p.parse_args(argv)
    names = parse_targets(a.targets)
    duration, rounds = (10.0, 3) if a.long else (a.duration, a.rounds)
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    selected = [c for c in cells(duration) if not only or c.label in only]
    with started_targets(names) as targets:
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
        rows = run_cells(selected, targets, rounds)
    all_names = ["etcd", "etcdkit"]
    settings = (f"saturated cells: 1 writer, {EVENTS_AT_SATURATION:,} events per run; paced cells: {duration:g} s; "
                f"{rounds} rounds alternating; one stream per watcher over 4 connections; 32 B keys, 256 B values "
                f"(first 8 bytes: send timestamp); servers: {', '.join(names)}. Rate = events delivered/s, "
                f"latency = delivery latency, CPU = server CPU per delivered event.")
    section = (header("Watch side by side (bench/watch.py)", settings) + "\n" + render_table(rows, all_names)
               + f"\n\nMemory per idle watcher ({a.idle_watchers:,} watchers on {a.idle_streams} streams, "
               "RSS delta; includes the streams' own cost):\n\n" + render_memory_table(mem, all_names) + "\n")
    out = write_report(ROOT, a.name, section, a.append_docs)
    print(section)
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
