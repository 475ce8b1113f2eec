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
    PYTHONPATH=src python bench/lease.py --grpc-floor   # plus a grpc.aio Lease server that does no work

``--grpc-floor`` adds two servers to the same alternating rounds: a Lease
service (own process) that answers at once without doing anything (a
counter for grant IDs, TTL echoed on keep-alive), once on grpc.aio
(``floor-aio``) and once on grpc's thread-pool server (``floor-sync``). Their
rates are the ceilings of any Python server built on grpcio on this machine
under this load generator; their CPU per op is the transport's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from _spawn import spawned_server

from etcdkit.bench.compare import Cell, Target, render_table, run_cells
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


FLOORS = ("floor-aio", "floor-sync")


def _floor_server(port_q: Any, flavor: str) -> None:
    """Child process: a Lease service that does no work, on grpc.aio or on grpc's thread-pool server."""
    from concurrent import futures

    import grpc

    from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc

    ids = iter(range(1, 1 << 62))

    def grant(request: Any, context: Any) -> Any:
        return rpc_pb2.LeaseGrantResponse(ID=next(ids), TTL=request.TTL)

    def revoke(request: Any, context: Any) -> Any:
        return rpc_pb2.LeaseRevokeResponse()

    def ttl(request: Any, context: Any) -> Any:
        return rpc_pb2.LeaseTimeToLiveResponse(ID=request.ID, TTL=-1)

    def leases(request: Any, context: Any) -> Any:
        return rpc_pb2.LeaseLeasesResponse()

    def answer(r: Any) -> Any:
        return rpc_pb2.LeaseKeepAliveResponse(ID=r.ID, TTL=60)

    if flavor == "floor-sync":

        class Sync(rpc_pb2_grpc.LeaseServicer):
            LeaseGrant, LeaseRevoke = staticmethod(grant), staticmethod(revoke)
            LeaseTimeToLive, LeaseLeases = staticmethod(ttl), staticmethod(leases)

            def LeaseKeepAlive(self, requests: Iterator[Any], context: Any) -> Iterator[Any]:
                return map(answer, requests)

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        rpc_pb2_grpc.add_LeaseServicer_to_server(Sync(), server)
        port_q.put(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        server.wait_for_termination()
        return

    class Aio(rpc_pb2_grpc.LeaseServicer):
        async def LeaseGrant(self, request: Any, context: Any) -> Any:
            return grant(request, context)

        async def LeaseRevoke(self, request: Any, context: Any) -> Any:
            return revoke(request, context)

        async def LeaseTimeToLive(self, request: Any, context: Any) -> Any:
            return ttl(request, context)

        async def LeaseLeases(self, request: Any, context: Any) -> Any:
            return leases(request, context)

        async def LeaseKeepAlive(self, requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
            async for r in requests:
                yield answer(r)

    async def serve() -> None:
        aserver = grpc.aio.server()
        rpc_pb2_grpc.add_LeaseServicer_to_server(Aio(), aserver)
        port_q.put(aserver.add_insecure_port("127.0.0.1:0"))
        await aserver.start()
        await aserver.wait_for_termination()

    asyncio.run(serve())


@contextlib.contextmanager
def floor_target(flavor: str) -> Iterator[Target]:
    """A do-nothing Lease server (``FLOORS``) as a benchmark target; killed (by PID) on exit."""
    with spawned_server(_floor_server, flavor) as (port, pid):
        yield Target(flavor, f"127.0.0.1:{port}", pid)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p, "lease")
    p.add_argument(
        "--grpc-floor",
        action="store_true",
        help="also run Lease servers that do no work, on grpc.aio and on grpc's thread-pool server (the ceilings)",
    )
    a = p.parse_args(argv)
    names = parse_targets(a.targets)
    duration, rounds = (10.0, 3) if a.long else (a.duration, a.rounds)
    only = {s.strip() for s in a.only.split(",") if s.strip()}
    selected = [c for c in cells(duration) if not only or c.label in only]
    with started_targets(names) as targets, contextlib.ExitStack() as stack:
        if a.grpc_floor:
            targets = [*targets, *(stack.enter_context(floor_target(f)) for f in FLOORS)]
        rows = run_cells(selected, targets, rounds)
    all_names = ["etcd", "etcdkit", *(FLOORS if a.grpc_floor else ())]
    settings = (
        f"{duration:g} s per cell per server per round, {rounds} rounds alternating; "
        f"grants: TTL 60 s, server-chosen ids, revoked after each run; keep-alive: one lease per stream, "
        f"one request in flight per stream; conns = clients/16 (1..8); servers: {', '.join(all_names)}"
        + (
            " (floor-aio / floor-sync: a Lease service that does no work, on grpc.aio / on grpc's"
            " thread-pool server with 16 workers)"
            if a.grpc_floor
            else ""
        )
        + "."
    )
    section = header("Leases side by side (bench/lease.py)", settings) + "\n" + render_table(rows, all_names) + "\n"
    out = write_report(ROOT, a.name, section, a.append_docs)
    print(section)
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
