"""The ``v3lockpb.Lock`` servicer (the recipe is in ``etcdkit.server.lease.mutex``).

Like etcd 3.4's lock server (a client inside the server, acting with the
caller's token), every failure reaches the caller as gRPC ``UNKNOWN`` with the
underlying message, e.g. ``etcdserver: requested lease not found``,
``etcdserver: permission denied`` or ``mutex: session is expired``.
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc

from etcdkit.api.pb import v3lock_pb2, v3lock_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease import mutex
from etcdkit.server.lease.kv import KVServer
from etcdkit.server.lease.watching import PollingWatches, Watches

__all__ = ["LockServicer", "abort_unknown"]


async def abort_unknown(context: grpc.aio.ServicerContext[Any, Any], err: EtcdServerError) -> NoReturn:
    """Fail the RPC the way etcd's in-process-client services do: UNKNOWN + message."""
    await context.abort(grpc.StatusCode.UNKNOWN, err.wire.message)
    raise AssertionError("unreachable")  # abort always raises


class LockServicer(v3lock_pb2_grpc.LockServicer):
    """Serves Lock/Unlock for ``server``; ``watches`` is how waits are done (see ``lease.watching``)."""

    def __init__(self, server: KVServer, watches: Watches | None = None) -> None:
        self._server = server
        self._watches = watches if watches is not None else PollingWatches(server)

    async def Lock(
        self, request: v3lock_pb2.LockRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3lock_pb2.LockResponse:
        try:
            caller = self._server.who(context)
            lease = await mutex.session_lease(self._server, request.lease)
            held = await mutex.acquire(self._server, self._watches, request.name, lease, caller)
        except EtcdServerError as err:
            await abort_unknown(context, err)
        return v3lock_pb2.LockResponse(header=held.header, key=held.key)

    async def Unlock(
        self, request: v3lock_pb2.UnlockRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3lock_pb2.UnlockResponse:
        try:
            header = await mutex.release(self._server, request.key, self._server.who(context))
        except EtcdServerError as err:
            await abort_unknown(context, err)
        self._watches.notify()
        return v3lock_pb2.UnlockResponse(header=header)
