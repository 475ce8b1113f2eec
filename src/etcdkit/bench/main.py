"""``etcdkit bench``: command-line front end of the load generator.

Contract: ``main(argv) -> int`` parses ``argv`` (without the program and
``bench`` words), runs one workload and prints a text report, or JSON with
``--json``. Failures print one line on stderr (a traceback only with
``--debug``). Exit codes: 0 on success, 1 when the run failed (cannot
connect, counts do not add up, every op failed), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys

from etcdkit.bench.config import WORKLOADS, BenchConfig

__all__ = ["build_parser", "config_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="etcdkit bench",
        description=("Load generator for any etcd v3 server "
                     "(put, range, txn, watch fan-out, lease keep-alive, lease grant)."),
    )
    p.add_argument("workload", choices=WORKLOADS, help="what to run")
    p.add_argument("--endpoints", default="127.0.0.1:2379",
                   help="comma-separated host:port list (http:// prefixes accepted)")
    p.add_argument("--conns", type=int, default=1, help="gRPC connections (default 1)")
    p.add_argument("--clients", type=int, default=1,
                   help="concurrent requests in flight (watch: concurrent writers) (default 1)")
    p.add_argument("--total", type=int, default=None, help="ops to issue (default: run for --duration)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds to run (default 10 when --total is not given); with --total, whichever is first")
    p.add_argument("--rate", type=float, default=0.0, help="max issued ops/s across clients (0 = unlimited)")
    p.add_argument("--key-size", type=int, default=32, help="key bytes (default 32)")
    p.add_argument("--val-size", type=int, default=256, help="value bytes (default 256)")
    p.add_argument("--key-space", type=int, default=1000, help="distinct keys (default 1000)")
    p.add_argument("--prefix", default="/bench/", help="key prefix (default /bench/)")
    p.add_argument("--consistency", choices=("l", "s"), default="l",
                   help="range: l = linearizable (default), s = serializable")
    p.add_argument("--watchers", type=int, default=100, help="watch: watchers on the prefix (default 100)")
    p.add_argument("--streams", type=int, default=0, help="watch: streams carrying them (default: one each)")
    p.add_argument("--lease-ttl", type=int, default=60,
                   help="lease: TTL of the kept-alive leases; lease-grant: TTL of each grant (default 60)")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    p.add_argument("--warmup", type=float, default=0.0, help="unrecorded warm-up seconds (default 0)")
    p.add_argument("--seed", type=int, default=1, help="key choice seed")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks of failures")
    return p


def config_from_args(ns: argparse.Namespace) -> BenchConfig:
    """Turn parsed arguments into a validated ``BenchConfig`` (``ValueError`` if invalid)."""
    endpoints = tuple(
        e.strip().removeprefix("http://").removeprefix("https://") for e in ns.endpoints.split(",") if e.strip()
    )
    duration = ns.duration if (ns.duration is not None or ns.total is not None) else 10.0
    return BenchConfig(
        workload=ns.workload,
        endpoints=endpoints,
        conns=ns.conns,
        clients=ns.clients,
        total=ns.total,
        duration=duration,
        rate=ns.rate,
        key_size=ns.key_size,
        val_size=ns.val_size,
        key_space=ns.key_space,
        prefix=ns.prefix.encode(),
        serializable=ns.consistency == "s",
        timeout=ns.timeout,
        warmup=ns.warmup,
        watchers=ns.watchers,
        streams=ns.streams,
        lease_ttl=ns.lease_ttl,
        seed=ns.seed,
    )


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    details = getattr(exc, "details", None)
    if callable(code) and callable(details):  # a gRPC error: status code and message, not the debug string
        return f"{code().name}: {details()}"
    return str(exc)


def main(argv: list[str]) -> int:
    """Run ``etcdkit bench`` with ``argv``; see the module contract."""
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        cfg = config_from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))  # exits with status 2

    from etcdkit.bench.result import CountMismatch  # grpc is imported only once a run starts
    from etcdkit.bench.runner import run_sync

    try:
        result = run_sync(cfg)
    except CountMismatch as exc:
        sys.stderr.write(f"etcdkit bench: {exc}\n")
        return 1
    except Exception as exc:  # set-up failures (connect, preload, watch creation): one line, no traceback
        if ns.debug:
            raise
        detail = _describe(exc)
        sys.stderr.write(f"etcdkit bench: {type(exc).__name__}: {detail or 'timed out connecting'}\n")
        return 1
    sys.stdout.write((result.to_json() if ns.json else result.render()) + "\n")
    if result.issued and not result.acknowledged:
        return 1
    return 0
