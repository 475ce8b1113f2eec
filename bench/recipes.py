"""Benchmark: etcdkit's lock vs python-etcd3's under contention, lock exclusion past the TTL,
and cache reads vs serializable gets. Results go to docs/benchmarks.md.

Usage::

    PYTHONPATH=src python bench/recipes.py [--endpoints 127.0.0.1:2379] [--duration 5] [--clients 1,8,32]

Without ``--endpoints`` a real etcd (``/usr/bin/etcd``) is started on free ports.
python-etcd3 runs in its own virtualenv (created on first use in ``--venv``,
``pip install etcd3==0.12.0 "protobuf<4" "tenacity<7"``: 0.12 needs the old tenacity API), each side in its own child
process with the same number of contenders, each contender with its own
client connection. Every acquisition is checked for exclusion in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent


async def ours_throughput(endpoint: str, clients: int, duration: float, name: str) -> dict[str, float]:
    from etcdkit.client import AsyncClient
    from etcdkit.recipes import AsyncLock, AsyncSession

    holders = 0
    violations = 0
    ops = 0
    stop = time.monotonic() + duration

    async def worker() -> None:
        nonlocal holders, violations, ops
        async with AsyncClient(endpoints=[endpoint]) as c, await AsyncSession.create(c, ttl=10) as s:
            lock = AsyncLock(s, name)
            while time.monotonic() < stop:
                if not await lock.acquire(timeout=10):
                    continue
                holders += 1
                violations += holders > 1
                await asyncio.sleep(0)  # let any other "holder" run inside our critical section
                holders -= 1
                await lock.release()
                ops += 1

    start, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return {
        "ops": ops,
        "seconds": time.monotonic() - start,
        "violations": violations,
        "cpu_s": time.process_time() - cpu,
    }


def ours_sync_throughput(endpoint: str, clients: int, duration: float, name: str) -> dict[str, float]:
    """The blocking ``Lock``, one thread and one ``Client`` per contender (python-etcd3's model)."""
    import threading

    from _loops import timed_threads

    from etcdkit.client import Client
    from etcdkit.recipes import Lock, Session

    guard = threading.Lock()
    counts = {"holders": 0, "violations": 0, "ops": 0}
    stop = time.monotonic() + duration

    def worker() -> None:
        n = 0
        with Client(endpoints=[endpoint]) as c, Session(c, ttl=10) as s:
            lock = Lock(s, name)
            while time.monotonic() < stop:
                if not lock.acquire(timeout=10):
                    continue
                with guard:
                    counts["holders"] += 1
                    counts["violations"] += counts["holders"] > 1
                time.sleep(0)  # let any other "holder" run inside our critical section
                with guard:
                    counts["holders"] -= 1
                lock.release()
                n += 1
        with guard:
            counts["ops"] += n

    seconds, cpu_s = timed_threads(worker, clients)
    return {"ops": counts["ops"], "seconds": seconds, "violations": counts["violations"], "cpu_s": cpu_s}


def ours_overrun(endpoint: str, name: str) -> dict[str, bool]:
    from etcdkit.client import Client
    from etcdkit.recipes import Lock, Session

    with Client(endpoints=[endpoint]) as c, Session(c, ttl=2) as s1, Session(c, ttl=2) as s2:
        first = Lock(s1, name)
        assert first.acquire(timeout=5)
        got = Lock(s2, name).acquire(timeout=4)  # first holds for twice its TTL meanwhile
        first.release()
        return {"second_acquired_while_first_held": got}


async def cache_vs_get(endpoint: str, keys: int = 1000) -> dict[str, float]:
    from etcdkit.client import AsyncClient
    from etcdkit.recipes import AsyncCache

    prefix = f"/bench-cache-{uuid.uuid4().hex}/".encode()
    async with AsyncClient(endpoints=[endpoint]) as c:
        for i in range(keys):
            await c.put(prefix + b"%06d" % i, b"x" * 100)
        cache = AsyncCache(c, prefix)
        await cache.start(timeout=30)
        n_get = 2000
        t = time.perf_counter()
        for i in range(n_get):
            await c.get(prefix + b"%06d" % (i % keys), serializable=True)
        get_us = (time.perf_counter() - t) / n_get * 1e6
        n_cache = 200_000
        t = time.perf_counter()
        for i in range(n_cache):
            cache.get(prefix + b"%06d" % (i % keys))
        cache_us = (time.perf_counter() - t) / n_cache * 1e6
        await cache.close()
        await c.delete(prefix, prefix=True)
    return {"serializable_get_us": get_us, "cache_get_us": cache_us, "speedup": get_us / cache_us}


def child(args: argparse.Namespace) -> None:
    if args.child == "throughput":
        out: object = asyncio.run(ours_throughput(args.endpoints, args.n, args.duration, args.name))
    elif args.child == "sync-throughput":
        out = ours_sync_throughput(args.endpoints, args.n, args.duration, args.name)
    elif args.child == "overrun":
        out = ours_overrun(args.endpoints, args.name)
    else:
        out = asyncio.run(cache_vs_get(args.endpoints))
    print(json.dumps(out))


_UNARY = ("Range", "Put", "DeleteRange", "Txn", "LeaseGrant", "LeaseRevoke")


def server_requests(endpoint: str) -> dict[str, int]:
    """etcd's own request counters (``/metrics``): unary calls by method, and messages received on
    Watch streams (creates + cancels). Empty if the server does not export them."""
    import re
    import urllib.request

    try:
        text = urllib.request.urlopen(f"http://{endpoint}/metrics", timeout=5).read().decode()
    except OSError:
        return {}
    out: dict[str, int] = {}
    pat = (
        r'^grpc_server_(started|msg_received)_total\{grpc_method="(\w+)",grpc_service="etcdserverpb\.\w+",[^}]*\} (\d+)'
    )
    for kind, method, n in re.findall(pat, text, re.M):
        if (kind == "started" and method in _UNARY) or (kind == "msg_received" and method == "Watch"):
            out[method] = out.get(method, 0) + int(n)
    return out


def requests_per_op(before: dict[str, int], after: dict[str, int], ops: float) -> dict[str, float]:
    return {k: round((after[k] - before.get(k, 0)) / ops, 2) for k in after if after[k] != before.get(k, 0)}


def lock_row(n: int, runs: dict[str, list[dict[str, float]]], names: list[str]) -> str:
    """One markdown row: pooled ops/s per side, pooled and per-round-median ratios to python-etcd3."""
    import statistics

    def rate(rs: list[dict[str, float]]) -> float:
        return sum(r["ops"] for r in rs) / sum(r["seconds"] for r in rs)

    base = runs[names[-1]]

    def ratio(side: str) -> str:
        per_round = [
            (a["ops"] / a["seconds"]) / max(b["ops"] / b["seconds"], 1e-9)
            for a, b in zip(runs[side], base, strict=True)
        ]
        return f"{rate(runs[side]) / max(rate(base), 1e-9):.2f}x / {statistics.median(per_round):.2f}x"

    violations = ", ".join(f"{int(sum(r['violations'] for r in runs[k]))}" for k in names)
    return (
        f"| {n} | "
        + " | ".join(f"{rate(runs[k]):,.0f}" for k in names)
        + f" | {ratio(names[0])} | {ratio(names[1])} | {violations} |"
    )


def run_json(cmd: list[str]) -> dict[str, float]:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, float] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def ensure_venv(venv: Path) -> Path:
    from _venv import ETCD3_REQUIREMENTS
    from _venv import ensure_venv as ensure

    return ensure(venv, ETCD3_REQUIREMENTS)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoints", default=None)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--clients", default="1,8,32")
    p.add_argument("--rounds", type=int, default=3, help="rounds per contention level, rotating who goes first")
    p.add_argument("--venv", default="/tmp/etcd3-venv")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--name", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    from etcdkit.testing import EtcdProcess

    srv = None
    endpoint = args.endpoints
    if endpoint is None:
        srv = EtcdProcess(extra_args=["--unsafe-no-fsync"]).start()
        endpoint = srv.endpoint
    try:
        etcd3_py = ensure_venv(Path(args.venv))
        me = [sys.executable, str(Path(__file__).resolve())]
        sides = {
            "etcdkit Lock (threads)": [*me, "--endpoints", endpoint, "--child", "sync-throughput"],
            "etcdkit AsyncLock (tasks)": [*me, "--endpoints", endpoint, "--child", "throughput"],
            "python-etcd3 (threads)": [str(etcd3_py), str(HERE / "_etcd3_lock.py"), "throughput", endpoint],
        }
        names = list(sides)
        table = []
        for n in [int(x) for x in args.clients.split(",")]:
            runs: dict[str, list[dict[str, float]]] = {k: [] for k in names}
            reqs: dict[str, dict[str, float]] = {}
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
                for side in order:
                    name = f"/bench-lock-{uuid.uuid4().hex}"
                    cmd = sides[side]
                    if side.startswith("python"):
                        cmd = [*cmd, str(n), str(args.duration), name]
                    else:
                        cmd = [*cmd, "--n", str(n), "--duration", str(args.duration), "--name", name]
                    m0 = server_requests(endpoint)
                    out = run_json(cmd)
                    m1 = server_requests(endpoint)
                    runs[side].append(out)
                    if m0:
                        reqs[side] = requests_per_op(m0, m1, max(out["ops"], 1))
                    print(
                        f"{n:>3} clients round {r + 1}: {side:<26} {out['ops'] / out['seconds']:8.1f}/s "
                        f"(violations {out['violations']:.0f}, "
                        f"client CPU {out['cpu_s'] / max(out['ops'], 1) * 1e6:,.0f} µs/op)",
                        flush=True,
                    )
            row = lock_row(n, runs, names)
            table.append(row)
            print(row, flush=True)
            for side, q in reqs.items():
                print(f"     requests per acquire+release, {side}: {q}", flush=True)
        print(
            "\n| contenders | "
            + " | ".join(f"{k} ops/s" for k in names)
            + " | Lock / python-etcd3 (pooled, per-round median) | AsyncLock / python-etcd3 | violations |"
        )
        print("|---:|" + "---:|" * len(names) + "---:|---:|---|")
        for row in table:
            print(row)
        over_ours = run_json([*me, "--endpoints", endpoint, "--child", "overrun", "--name", f"/ov-{uuid.uuid4().hex}"])
        over_theirs = run_json(
            [str(etcd3_py), str(HERE / "_etcd3_lock.py"), "overrun", endpoint, f"/ov-{uuid.uuid4().hex}"]
        )
        print(f"held past TTL: second holder got in? etcdkit {over_ours}, python-etcd3 {over_theirs}")
        cache = run_json([*me, "--endpoints", endpoint, "--child", "cache"])
        print(f"cache: {cache}")
    finally:
        if srv is not None:
            srv.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
