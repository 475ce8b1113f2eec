"""Plumbing for the ``bench/*.py`` side-by-side scripts: start servers, write results.

Contract: ``started_targets(names)`` starts each named server (``etcd``: real
etcd via ``EtcdProcess``; ``etcdkit``: ``EtcdkitProcess``) on free loopback
ports with its own temporary data dir, yields ``Target``s, and stops every
process it started by PID on exit (also on error). ``write_report`` writes
``bench/results/<name>.md`` and, if asked, appends the same section to
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

from etcdkit.bench.compare import Target
from etcdkit.bench.procstat import machine_info

__all__ = ["KNOWN_TARGETS", "add_common_args", "header", "parse_targets", "started_targets", "write_report"]

KNOWN_TARGETS = ("etcd", "etcdkit")


def add_common_args(p: argparse.ArgumentParser, default_name: str) -> None:
    """Flags shared by the side-by-side scripts."""
    p.add_argument("--targets", default="etcd,etcdkit",
                   help="comma-separated servers to start and compare: etcd, etcdkit (default both)")
    p.add_argument("--duration", type=float, default=2.0, help="seconds per cell per server per round (default 2)")
    p.add_argument("--rounds", type=int, default=2, help="rounds, alternating the server order (default 2)")
    p.add_argument("--long", action="store_true", help="longer runs: --duration 10 --rounds 3")
    p.add_argument("--only", default="", help="comma-separated cell labels to run (exact labels, see the table)")
    p.add_argument("--name", default=default_name,
                   help=f"results file bench/results/<name>.md (default {default_name})")
    p.add_argument("--append-docs", action="store_true", help="also append the results to docs/benchmarks.md")


def parse_targets(spec: str) -> list[str]:
    """Validated target names from ``--targets``."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    bad = [n for n in names if n not in KNOWN_TARGETS]
    if bad or not names:
        raise SystemExit(f"--targets: unknown {bad or spec!r}; choose from {', '.join(KNOWN_TARGETS)}")
    return names


@contextlib.contextmanager
def started_targets(names: Sequence[str], extra_args: Sequence[str] = ()) -> Iterator[list[Target]]:
    """Start the named servers; stop them (by PID) on exit."""
    from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess

    with contextlib.ExitStack() as stack:
        targets = []
        for n in names:
            srv: ServerProcess = EtcdProcess(extra_args=list(extra_args)) if n == "etcd" else EtcdkitProcess(
                extra_args=list(extra_args)
            )
            stack.enter_context(srv)
            assert srv.proc is not None
            targets.append(Target(n, srv.endpoint, srv.proc.pid))
        yield targets


def header(title: str, settings: str) -> str:
    """Section heading with date, machine and versions."""
    m = machine_info()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
    except OSError:
        load = "?"
    return (
        f"### {title} ({now})\n\n"
        f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}, 1-min load average {load} at the end. "
        f"Versions: etcd {m['etcd']}, etcdkit {m['etcdkit']} (commit {m['commit']}), "
        f"Python {m['python']}, grpcio {m['grpcio']}.  \n"
        f"Settings: {settings}\n"
    )


def write_report(root: Path, name: str, section: str, append_docs: bool) -> Path:
    """Write ``bench/results/<name>.md``; append ``section`` to ``docs/benchmarks.md`` if asked."""
    out = root / "bench" / "results" / f"{name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(section)
    if append_docs:
        docs = root / "docs" / "benchmarks.md"
        with docs.open("a") as f:
            f.write("\n" + section)
    return out
