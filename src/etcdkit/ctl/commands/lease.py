"""lease grant/revoke/timetolive/list/keep-alive as etcdctl 3.4."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from etcdkit.ctl._calls import CallSet, responses
from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_BAD_CONNECTION, EXIT_ERROR, CtlError
from etcdkit.ctl.commands._args import go_parse_int

__all__ = ["grant", "keep_alive", "lease_id", "list_leases", "revoke", "timetolive"]


def lease_id(arg: str) -> int:
    """etcdctl's ``leaseFromArgs``: hexadecimal lease ID or exit 128."""
    try:
        return go_parse_int(arg, 16)
    except ValueError as exc:
        raise CtlError(EXIT_BAD_ARGS, f"bad lease ID arg ({exc}), expecting ID in Hex") from None


def _fail(code: int, fmt: str, exc: Exception) -> CtlError:
    return CtlError(code, fmt.format(getattr(exc, "text", str(exc))))


def grant(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "lease grant command needs TTL argument")
    try:
        ttl = go_parse_int(ctx.args[0])
    except ValueError as exc:
        raise CtlError(EXIT_BAD_ARGS, f"bad TTL ({exc})") from None
    try:
        resp = ctx.conn().unary("Lease", "LeaseGrant", rpc_pb2.LeaseGrantRequest(TTL=ttl))
    except RpcFailure as exc:
        raise _fail(EXIT_ERROR, "failed to grant lease ({})", exc) from None
    ctx.print("grant", resp)
    return 0


def revoke(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "lease revoke command needs 1 argument")
    lid = lease_id(ctx.args[0])
    try:
        resp = ctx.conn().unary("Lease", "LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=lid))
    except RpcFailure as exc:
        raise _fail(EXIT_ERROR, "failed to revoke lease ({})", exc) from None
    ctx.print("revoke", lid, resp)
    return 0


def timetolive(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "lease timetolive command needs lease ID as argument")
    lid = lease_id(ctx.args[0])
    keys = bool(ctx.values["keys"])
    try:
        resp = ctx.conn().unary("Lease", "LeaseTimeToLive", rpc_pb2.LeaseTimeToLiveRequest(ID=lid, keys=keys))
    except RpcFailure as exc:
        raise _fail(EXIT_BAD_CONNECTION, "{}", exc) from None
    ctx.print("time_to_live", resp, keys)
    return 0


def list_leases(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    try:
        resp = ctx.conn().unary("Lease", "LeaseLeases", rpc_pb2.LeaseLeasesRequest())
    except RpcFailure as exc:
        raise _fail(EXIT_BAD_CONNECTION, "{}", exc) from None
    ctx.print("leases", resp)
    return 0


def keep_alive_stream(conn: Any, lid: int, stop: threading.Event, calls: CallSet | None = None) -> Iterator[Any]:
    """Yield LeaseKeepAliveResponses, sending a request every TTL/3 seconds (at least every 0.5 s) until ``stop``.

    The call is cancelled when the generator is closed; a reader in another thread passes ``calls``,
    which the thread ending the command cancels (see ``etcdkit.ctl._calls``)."""
    from etcdkit.api.pb import rpc_pb2

    interval = [0.5]

    def requests() -> Iterator[Any]:
        while not stop.is_set():
            yield rpc_pb2.LeaseKeepAliveRequest(ID=lid)
            stop.wait(interval[0])

    conn.authenticate()
    call = conn.stub("Lease").LeaseKeepAlive(requests(), metadata=conn.metadata or None)
    for resp in responses(call, calls):
        if resp.TTL > 0:
            interval[0] = max(resp.TTL / 3.0, 0.5)
        yield resp


def keep_alive(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "lease keep-alive command needs lease ID as argument")
    lid = lease_id(ctx.args[0])
    conn = ctx.conn()
    if ctx.values["once"]:
        import grpc

        conn.authenticate()
        try:
            it = conn.stub("Lease").LeaseKeepAlive(iter([rpc_pb2.LeaseKeepAliveRequest(ID=lid)]),
                                                   timeout=conn.settings.command_timeout,
                                                   metadata=conn.metadata or None)
            resp = next(iter(it), None)
        except grpc.RpcError as err:
            raise _fail(EXIT_BAD_CONNECTION, "{}", conn.render(err, warn=False)) from None
        if resp is None or resp.TTL <= 0:
            raise CtlError(EXIT_BAD_CONNECTION, "etcdserver: requested lease not found")
        ctx.print("keep_alive", resp)
        return 0
    stop = threading.Event()
    try:
        for resp in keep_alive_stream(conn, lid, stop):
            if resp.TTL <= 0:
                break
            ctx.print("keep_alive", resp)
    except RpcFailure as exc:
        raise _fail(EXIT_BAD_CONNECTION, "{}", exc) from None
    finally:
        stop.set()
    if ctx.display.format == "simple":
        ctx.out(f"lease {lid:016x} expired or revoked.\n")
    return 0
