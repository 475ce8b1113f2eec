"""Third-party side of bench/clients.py: python-etcd3 (blocking) and aetcd (asyncio).

Runs in the client's own virtualenv (see bench/_venv.py), so it imports only
the stdlib, that client and bench/_loops.py, never etcdkit.

Usage: python _other_clients.py CLIENT WORKLOAD HOST:PORT CONCURRENCY DURATION WARMUP KEYS DEADLINE
  CLIENT    python-etcd3 | aetcd
  WORKLOAD  put | get    (32-byte keys from bench/clients.py's key space, 256-byte values)
            | watch      (1 writer thread/task, 1 watcher; CONCURRENCY is ignored)
  DEADLINE  seconds given to the client as its per-call ``timeout``, or ``default`` (the client's own: none)
Prints one JSON object (bench/_loops.summary plus the client's version).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import json
import sys
from typing import Any

from _loops import WatchMeter, run_tasks, run_threads, run_watch_tasks, run_watch_threads, summary

VALUE = b"v" * 256


def key(i: int, keys: int) -> bytes:
    """The same 32-byte key space as bench/clients.py."""
    return b"/bench-clients/%017d" % (i % keys)


def etcd3_cell(
    workload: str, endpoint: str, concurrency: int, duration: float, warmup: float, keys: int,
    deadline: float | None = None,
) -> dict[str, Any]:
    etcd3: Any = importlib.import_module("etcd3")
    host, port = endpoint.rsplit(":", 1)
    c = etcd3.client(host=host, port=int(port), timeout=deadline)  # one client (one channel) shared by every thread
    try:
        if workload == "watch":
            meter = WatchMeter()
            it, cancel = c.watch_prefix(meter.prefix)
            try:
                out = run_watch_threads(((e.key, e.value) for e in it), c.put, meter, duration)
            finally:
                cancel()
            out["version"] = importlib.metadata.version("etcd3")
            return out
        if workload == "put":

            def op(i: int) -> object:
                return c.put(key(i, keys), VALUE)
        else:

            def op(i: int) -> object:
                return c.get(key(i, keys))

        run_threads(op, concurrency, warmup)
        out = summary(*run_threads(op, concurrency, duration))
    finally:
        c.close()
    out["version"] = importlib.metadata.version("etcd3")
    return out


async def aetcd_cell(
    workload: str, endpoint: str, concurrency: int, duration: float, warmup: float, keys: int,
    deadline: float | None = None,
) -> dict[str, Any]:
    aetcd: Any = importlib.import_module("aetcd")
    host, port = endpoint.rsplit(":", 1)
    async with aetcd.Client(host=host, port=int(port), timeout=deadline) as c:
        if workload == "watch":
            meter = WatchMeter()
            w = await c.watch_prefix(meter.prefix)

            async def events() -> Any:
                async for e in w:
                    yield e.kv.key, e.kv.value

            try:
                out = await run_watch_tasks(events(), c.put, meter, duration)
            finally:
                await w.cancel()
            out["version"] = importlib.metadata.version("aetcd")
            return out
        if workload == "put":

            async def op(i: int) -> object:
                return await c.put(key(i, keys), VALUE)
        else:

            async def op(i: int) -> object:
                return await c.get(key(i, keys))

        await run_tasks(op, concurrency, warmup)
        out = summary(*await run_tasks(op, concurrency, duration))
    out["version"] = importlib.metadata.version("aetcd")
    return out


def main(argv: list[str]) -> None:
    client, workload, endpoint, conc, dur, warm, keys, deadline = argv
    if workload not in ("put", "get", "watch"):
        raise SystemExit(f"unknown workload {workload!r}")
    per_call = None if deadline == "default" else float(deadline)
    args = (workload, endpoint, int(conc), float(dur), float(warm), int(keys), per_call)
    if client == "python-etcd3":
        out = etcd3_cell(*args)
    elif client == "aetcd":
        out = asyncio.run(aetcd_cell(*args))
    else:
        raise SystemExit(f"unknown client {client!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
