"""endpoint health/status/hashkv (``--cluster`` expands to every member's client URLs) as etcdctl 3.4.

Health is a linearizable ``get health`` per endpoint (permission denied counts as healthy); unlike 3.5,
etcdctl 3.4 does not report active alarms as unhealthy.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_ERROR, CtlError
from etcdkit.ctl.printers._gofmt import go_duration

__all__ = ["endpoints", "hashkv", "health", "status"]



def endpoints(ctx: Context) -> list[str]:
    """``endpointsFromCluster``: the ``--endpoints`` list, or all members' client URLs with ``--cluster``."""
    settings = ctx.settings()
    if not ctx.values.get("cluster"):
        return list(settings.endpoints)
    from etcdkit.api.pb import rpc_pb2

    resp = ctx.conn().unary("Cluster", "MemberList", rpc_pb2.MemberListRequest())
    return [u for m in resp.members for u in m.clientURLs]


def _check(ctx: Context, ep: str) -> dict[str, Any]:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    conn = ctx.conn(ep)
    try:
        start = time.monotonic_ns()
        err = ""
        try:
            conn.unary("KV", "Range", rpc_pb2.RangeRequest(key=b"health"))
        except RpcFailure as exc:
            if exc.text != "etcdserver: permission denied":
                err = exc.text
        h: dict[str, Any] = {"endpoint": ep, "health": not err, "took": go_duration(time.monotonic_ns() - start),
                             "error": err}
        return h
    finally:
        conn.close()


def health(ctx: Context) -> int:
    eps = endpoints(ctx)
    with ThreadPoolExecutor(max_workers=max(len(eps), 1)) as pool:
        results = list(pool.map(lambda ep: _check(ctx, ep), eps))
    if ctx.display.format == "simple":
        from etcdkit.ctl.printers import simple

        ctx.err(simple.endpoint_health(results))
    else:
        ctx.print("endpoint_health", results)
    if any(h["error"] for h in results):
        raise CtlError(EXIT_ERROR, "unhealthy cluster")
    return 0


def _per_endpoint(ctx: Context, method: str, req: Any, what: str) -> tuple[list[tuple[str, Any]], bool]:
    from etcdkit.ctl._conn import RpcFailure

    out: list[tuple[str, Any]] = []
    failed = False
    for ep in endpoints(ctx):
        conn = ctx.conn(ep)
        try:
            out.append((ep, conn.unary("Maintenance", method, req)))
        except RpcFailure as exc:
            failed = True
            ctx.err(f"Failed to get the {what} of endpoint {ep} ({exc.text})\n")
        finally:
            conn.close()
    return out, failed


def status(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    results, failed = _per_endpoint(ctx, "Status", rpc_pb2.StatusRequest(), "status")
    ctx.print("endpoint_status", results)
    return EXIT_ERROR if failed else 0


def hashkv(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    results, failed = _per_endpoint(ctx, "HashKV", rpc_pb2.HashKVRequest(revision=ctx.values["rev"]), "hash")
    ctx.print("endpoint_hashkv", results)
    return EXIT_ERROR if failed else 0
