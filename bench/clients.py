"""Benchmark: etcdkit's clients against python-etcd3, aetcd and a bare grpc.aio stub (issue #5).

Usage::

    PYTHONPATH=src python bench/clients.py [--endpoints 127.0.0.1:2379] [--duration 3] [--rounds 3]
        [--concurrency 1,64] [--workloads put,get,watch] [--clients etcdkit-async,...] [--json out.json]

Without ``--endpoints`` one real etcd (``/usr/bin/etcd --unsafe-no-fsync``) is
started on free ports and every client runs against it. Every cell (client x
workload x concurrency) runs in its own child process for ``--duration``
seconds after a short warm-up: etcdkit's clients and the stub in this
interpreter, python-etcd3 and aetcd in their own virtualenvs (bench/_venv.py;
their protobuf cannot coexist with etcdkit's) through bench/_other_clients.py.
Rounds alternate the clients (each round starts with a different one) so load
drift on the machine hits every client alike. Blocking clients get
``concurrency`` threads sharing one client; asyncio clients ``concurrency``
tasks sharing one client. Keys are 32 bytes (a fixed space of ``--keys`` keys,
written before the first round), values 256 bytes.

The watch cell (one per client, concurrency ignored) is 1 writer + 1 watcher on
the same client in the same process: the writer puts (1 in flight) for
``--duration`` s, the watcher consumes the events; it reports events delivered
per second and delivery latency (put issued -> event in the watcher's hands).

Deadlines: by default each client runs with its own default per-request
deadline (etcdkit: ``request_timeout`` 10 s; aetcd, python-etcd3 and the stub:
none). ``--deadline S`` gives every client the same deadline of ``S`` seconds
on each call (etcdkit's ``request_timeout``, aetcd's and python-etcd3's
``timeout``, the stub's ``timeout=``), so that all of them do the same work per
call: a gRPC deadline costs the client a timer per call. ``--deadline none``
runs every client without one (etcdkit: ``request_timeout=None``).

Per cell the report gives acknowledged ops/s over all rounds, the median of the
rounds' p50 and p99 latencies, the median of the rounds' client CPU per op
(``time.process_time`` of the client process over the measured phase / acknowledged
ops: the client's own cost, much less sensitive to machine load than ops/s), and
checks issued == acknowledged + errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _loops import WatchMeter, run_tasks, run_threads, run_watch_tasks, run_watch_threads, summary  # noqa: E402
from _venv import AETCD_REQUIREMENTS, ETCD3_REQUIREMENTS, ensure_venv  # noqa: E402

__all__ = ["CLIENTS", "OURS", "Row", "aggregate", "key", "main", "markdown", "paired_ratios", "run_ours", "targets"]

OURS = ("etcdkit-async", "etcdkit-sync", "grpc-aio-stub")
OTHERS = ("python-etcd3", "aetcd")
CLIENTS = OURS + OTHERS
VALUE = b"v" * 256


def key(i: int, keys: int) -> bytes:
    """Key ``i mod keys`` of the benchmark's key space: always 32 bytes."""
    return b"/bench-clients/%017d" % (i % keys)


NO_DEADLINE = math.inf
"""``--deadline none``: no client sets a per-call deadline."""


def _deadline_kw(deadline: float | None) -> dict[str, Any]:
    """etcdkit's client keywords for ``--deadline`` (None: the client's default; ``NO_DEADLINE``: none)."""
    if deadline is None:
        return {}
    return {"request_timeout": None if deadline == NO_DEADLINE else deadline}


def _stub_timeout(deadline: float | None) -> float | None:
    """The bare stub's ``timeout=`` for ``--deadline`` (its default is none)."""
    return None if deadline == NO_DEADLINE else deadline


def _other_deadline(deadline: float | None) -> str:
    """``_other_clients.py``'s DEADLINE argument: their default and ``none`` are both no deadline."""
    return "default" if deadline is None or deadline == NO_DEADLINE else str(deadline)


def _deadline_text(deadline: float) -> str:
    """``--deadline``'s value for a child of ours (the inverse of ``_deadline_arg``)."""
    return "none" if deadline == NO_DEADLINE else str(deadline)


def _deadline_arg(text: str) -> float:
    """``--deadline``'s value: seconds, or ``none``."""
    return NO_DEADLINE if text.strip().lower() == "none" else float(text)


async def _async_cell(
    workload: str, endpoint: str, conc: int, duration: float, warmup: float, keys: int, deadline: float | None
) -> Any:
    from etcdkit import AsyncClient

    async with AsyncClient(endpoints=[endpoint], **_deadline_kw(deadline)) as c:
        if workload == "watch":
            meter = WatchMeter()
            w = await c.watch(meter.prefix, prefix=True)

            async def events() -> AsyncIterator[tuple[bytes, bytes]]:
                async for batch in w:
                    for e in batch.events:
                        yield e.kv.key, e.kv.value

            try:
                return await run_watch_tasks(events(), c.put, meter, duration)
            finally:
                await w.close()

        async def op(i: int) -> object:
            if workload == "put":
                return await c.put(key(i, keys), VALUE)
            return await c.get(key(i, keys))

        await run_tasks(op, conc, warmup)
        return summary(*await run_tasks(op, conc, duration))


def _sync_cell(
    workload: str, endpoint: str, conc: int, duration: float, warmup: float, keys: int, deadline: float | None
) -> Any:
    from etcdkit import Client

    with Client(endpoints=[endpoint], **_deadline_kw(deadline)) as c:
        if workload == "watch":
            meter = WatchMeter()
            with c.watch(meter.prefix, prefix=True) as w:
                events = ((e.kv.key, e.kv.value) for batch in w for e in batch.events)
                return run_watch_threads(events, c.put, meter, duration)

        def op(i: int) -> object:
            if workload == "put":
                return c.put(key(i, keys), VALUE)
            return c.get(key(i, keys))

        run_threads(op, conc, warmup)
        return summary(*run_threads(op, conc, duration))


async def _stub_cell(
    workload: str, endpoint: str, conc: int, duration: float, warmup: float, keys: int, deadline: float | None
) -> Any:
    import grpc

    from etcdkit.api.keys import prefix_end
    from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc

    deadline = _stub_timeout(deadline)
    async with grpc.aio.insecure_channel(endpoint) as ch:
        kv = rpc_pb2_grpc.KVStub(ch)

        async def put(k: bytes, v: bytes) -> object:
            return await kv.Put(rpc_pb2.PutRequest(key=k, value=v), timeout=deadline)

        if workload == "watch":
            meter = WatchMeter()
            create = rpc_pb2.WatchCreateRequest(key=meter.prefix, range_end=prefix_end(meter.prefix))
            stop = asyncio.Event()

            async def requests() -> AsyncIterator[rpc_pb2.WatchRequest]:
                yield rpc_pb2.WatchRequest(create_request=create)
                await stop.wait()  # keep the request side open until the cell ends

            call = rpc_pb2_grpc.WatchStub(ch).Watch(requests())
            responses = aiter(call)
            first = await anext(responses)
            assert first.created, first

            async def events() -> AsyncIterator[tuple[bytes, bytes]]:
                async for resp in responses:
                    for e in resp.events:
                        yield e.kv.key, e.kv.value

            try:
                return await run_watch_tasks(events(), put, meter, duration)
            finally:
                stop.set()
                call.cancel()

        async def op(i: int) -> object:
            if workload == "put":
                return await put(key(i, keys), VALUE)
            return await kv.Range(rpc_pb2.RangeRequest(key=key(i, keys)), timeout=deadline)

        await run_tasks(op, conc, warmup)
        return summary(*await run_tasks(op, conc, duration))


def run_ours(
    client: str,
    workload: str,
    endpoint: str,
    conc: int,
    duration: float,
    warmup: float,
    keys: int,
    deadline: float | None = None,
) -> Any:
    """One cell of one of etcdkit's clients (or the stub), in this process: the ``_loops.summary`` dict.
    ``deadline``: per-call deadline in seconds for every call (None: the client's default;
    ``NO_DEADLINE``: none)."""
    if workload not in ("put", "get", "watch"):
        raise ValueError(f"unknown workload {workload!r}")
    args = (workload, endpoint, conc, duration, warmup, keys, deadline)
    if client == "etcdkit-async":
        return asyncio.run(_async_cell(*args))
    if client == "etcdkit-sync":
        return _sync_cell(*args)
    if client == "grpc-aio-stub":
        return asyncio.run(_stub_cell(*args))
    raise ValueError(f"not one of ours: {client!r}")


@dataclass(frozen=True)
class Row:
    """One cell aggregated over its rounds."""

    client: str
    workload: str
    concurrency: int
    ops_per_s: float  # acknowledged ops over all rounds / their seconds
    round_ops: tuple[float, ...]
    p50_ms: float | None  # median of the rounds' p50
    p99_ms: float | None  # median of the rounds' p99
    issued: int
    acked: int
    errors: int
    events: int | None = None  # watch cells: events delivered (must equal acked puts)
    cpu_us: float | None = None  # median of the rounds' client CPU per op (process_time, all threads), µs

    @property
    def counts_add_up(self) -> bool:
        """issued == acknowledged + errors summed over the rounds, and every acknowledged put was watched."""
        return self.issued == self.acked + self.errors and self.events in (None, self.acked)


def aggregate(client: str, workload: str, conc: int, runs: Sequence[dict[str, Any]]) -> Row:
    """Fold the rounds' summaries of one cell into a ``Row``."""

    def med(name: str) -> float | None:
        vals = [r[name] for r in runs if r[name] is not None]
        return statistics.median(vals) if vals else None

    secs = sum(r["seconds"] for r in runs)
    acked = sum(r["acked"] for r in runs)
    return Row(
        client,
        workload,
        conc,
        acked / secs if secs else 0.0,
        tuple(r["ops_per_s"] for r in runs),
        med("p50_ms"),
        med("p99_ms"),
        sum(r["issued"] for r in runs),
        acked,
        sum(r["errors"] for r in runs),
        sum(r["events"] for r in runs) if all("events" in r for r in runs) else None,
        med("cpu_us_per_op") if all("cpu_us_per_op" in r for r in runs) else None,
    )


def paired_ratios(a: Row, b: Row) -> list[float]:
    """``a``'s ops/s over ``b``'s, round by round (the two ran minutes apart at most, under similar load)."""
    return [x / y for x, y in zip(a.round_ops, b.round_ops, strict=False) if y > 0]


def targets(rows: Sequence[Row]) -> list[tuple[str, float, float | None, float, bool]]:
    """Issue #5's targets per cell: (description, pooled ratio, median per-round ratio, required, met).

    ``met`` judges the pooled ratio (all rounds' acknowledged ops over all their seconds).
    """
    return [(desc, ratio, med, need, met) for desc, ratio, med, need, met, _ in _targets(rows)]


def _targets(rows: Sequence[Row]) -> list[tuple[str, float, float | None, float, bool, float | None]]:
    """``targets`` plus our client's CPU per op over the other's (lower is better; None without CPU figures)."""
    by = {(r.client, r.workload, r.concurrency): r for r in rows}
    pairs = [("etcdkit-async", "aetcd", 1.0, "c={n}"), ("etcdkit-async", "grpc-aio-stub", 0.9, "c={n}")]
    pairs.append(("etcdkit-sync", "python-etcd3", 1.0, "{n} thread(s)"))
    out: list[tuple[str, float, float | None, float, bool, float | None]] = []
    for (client, wl, n), row in sorted(by.items()):
        for ours, other, need, shape in pairs:
            base = by.get((other, wl, n))
            if client != ours or base is None or not base.ops_per_s:
                continue
            ratio = row.ops_per_s / base.ops_per_s
            per_round = paired_ratios(row, base)
            med = statistics.median(per_round) if per_round else None
            desc = f"{client.removeprefix('etcdkit-')} vs {other}, {wl} {shape.format(n=n)}"
            cpu = row.cpu_us / base.cpu_us if row.cpu_us and base.cpu_us else None
            out.append((desc, ratio, med, need, ratio >= need, cpu))
    return out


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _fmt0(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def markdown(rows: Sequence[Row]) -> str:
    """The measured table and the targets table."""
    lines = [
        "| workload | in flight | client | ops/s | rounds (ops/s) | p50 ms | p99 ms | client CPU µs/op "
        "| issued = acked + errors |",
        "|---|---:|---|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        rounds = ", ".join(f"{x:.0f}" for x in r.round_ops)
        check = f"{r.issued} = {r.acked} + {r.errors}" + ("" if r.events is None else f"; {r.events} events")
        check += "" if r.counts_add_up else " **MISMATCH**"
        lines.append(
            f"| {r.workload} | {r.concurrency} | {r.client} | {r.ops_per_s:.0f} | {rounds} | "
            f"{_fmt(r.p50_ms)} | {_fmt(r.p99_ms)} | {_fmt0(r.cpu_us)} | {check} |"
        )
    lines += [
        "",
        "| target | measured (pooled) | median per-round ratio | required | met | CPU/op ratio |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for desc, ratio, med, need, met, cpu in _targets(rows):
        m = "-" if med is None else f"{med:.2f}x"
        c = "-" if cpu is None else f"{cpu:.2f}x"
        lines.append(f"| {desc} | {ratio:.2f}x | {m} | >= {need:.1f}x | {'met' if met else '**not met**'} | {c} |")
    return "\n".join(lines)


def _run_child(cmd: list[str]) -> dict[str, Any]:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({r.returncode}): {r.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def _populate(endpoint: str, keys: int) -> None:
    from etcdkit import Client

    with Client(endpoints=[endpoint]) as c:
        for i in range(keys):
            c.put(key(i, keys), VALUE)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child``, one cell of ours) and print the tables."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoints", default=None)
    p.add_argument("--duration", type=float, default=3.0, help="measured seconds per cell and round")
    p.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds before each measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", default="1,64")
    p.add_argument("--workloads", default="put,get,watch")
    p.add_argument("--clients", default=",".join(CLIENTS))
    p.add_argument("--keys", type=int, default=1000)
    p.add_argument("--etcd3-venv", default="/tmp/etcd3-venv")
    p.add_argument("--aetcd-venv", default="/tmp/aetcd-venv")
    p.add_argument(
        "--deadline",
        type=_deadline_arg,
        default=None,
        help="the same per-call deadline (seconds, or 'none') for every client (default: each client's own default)",
    )
    p.add_argument("--json", default=None, help="also write every round's raw result here")
    p.add_argument("--from-json", default=None, help="print the tables of an earlier run's --json file and exit")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--workload", default="put", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(run_ours(a.child, a.workload, a.endpoints, a.n, a.duration, a.warmup, a.keys, a.deadline)))
        return 0

    if a.from_json:
        saved = json.loads(Path(a.from_json).read_text())
        raw_rows = {tuple(k.split("/")): v for k, v in saved.items()}
        rows = [aggregate(c, wl, int(n), runs) for (c, wl, n), runs in raw_rows.items()]
        rows.sort(key=lambda r: (r.workload, r.concurrency, CLIENTS.index(r.client)))
        print(markdown(rows))
        return 0 if all(r.counts_add_up for r in rows) else 1

    from etcdkit.testing import EtcdProcess

    clients = [c for c in a.clients.split(",") if c]
    unknown = set(clients) - set(CLIENTS)
    if unknown:
        p.error(f"unknown clients {sorted(unknown)}")
    pythons = {c: Path(sys.executable) for c in OURS}
    if "python-etcd3" in clients:
        pythons["python-etcd3"] = ensure_venv(Path(a.etcd3_venv), ETCD3_REQUIREMENTS)
    if "aetcd" in clients:
        pythons["aetcd"] = ensure_venv(Path(a.aetcd_venv), AETCD_REQUIREMENTS)
    srv = None
    endpoint = a.endpoints
    if endpoint is None:
        srv = EtcdProcess(extra_args=["--unsafe-no-fsync"]).start()
        endpoint = srv.endpoint
    raw: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    try:
        _populate(endpoint, a.keys)
        common = [str(a.duration), str(a.warmup), str(a.keys), _other_deadline(a.deadline)]
        for rnd in range(a.rounds):
            order = clients[rnd % len(clients) :] + clients[: rnd % len(clients)]
            for wl in a.workloads.split(","):
                for n in [1] if wl == "watch" else [int(x) for x in a.concurrency.split(",")]:
                    for c in order:
                        if c in OURS:
                            cmd = [str(pythons[c]), str(Path(__file__).resolve()), "--child", c, "--workload", wl]
                            cmd += ["--endpoints", endpoint, "--n", str(n), "--duration", str(a.duration)]
                            cmd += ["--warmup", str(a.warmup), "--keys", str(a.keys)]
                            cmd += [] if a.deadline is None else ["--deadline", _deadline_text(a.deadline)]
                        else:
                            cmd = [str(pythons[c]), str(HERE / "_other_clients.py"), c, wl, endpoint, str(n), *common]
                        res = _run_child([str(x) for x in cmd])
                        raw.setdefault((c, wl, n), []).append(res)
                        print(
                            f"round {rnd + 1} {wl:>3} c={n:<3} {c:<14} {res['ops_per_s']:8.0f} ops/s "
                            f"p50 {_fmt(res['p50_ms'])} p99 {_fmt(res['p99_ms'])} ms "
                            f"cpu {_fmt0(res.get('cpu_us_per_op'))} µs/op errors {res['errors']}",
                            flush=True,
                        )
    finally:
        if srv is not None:
            srv.cleanup()
    rows = [aggregate(c, wl, n, runs) for (c, wl, n), runs in raw.items()]
    rows.sort(key=lambda r: (r.workload, r.concurrency, CLIENTS.index(r.client)))
    if a.json:
        Path(a.json).write_text(json.dumps({"/".join(map(str, k)): v for k, v in raw.items()}, indent=1))
    print(markdown(rows))
    return 0 if all(r.counts_add_up for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
