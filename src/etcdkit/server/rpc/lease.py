"""The ``etcdserverpb.Lease`` servicer.

Grant and Revoke go through the server's log (``server.lease_grant`` /
``server.lease_revoke``); KeepAlive renews in the lessor directly (renewals are
not logged, as in etcd); TimeToLive and Leases read the lessor. Wire behaviour
mirrored from etcd's ``v3rpc/lease.go``: an unknown lease answers KeepAlive with
``TTL = 0`` and TimeToLive with ``TTL = -1`` (not errors), and a KeepAlive
response's header is taken *before* the renew, so its revision never runs ahead
of the point where the lease was known alive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import grpc

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import KVServer

__all__ = ["LeaseServicer"]


async def _abort(context: grpc.aio.ServicerContext[Any, Any], err: EtcdServerError) -> NoReturn:
    await context.abort(err.wire.code, err.wire.message)
    raise AssertionError("unreachable")  # abort always raises


class LeaseServicer(rpc_pb2_grpc.LeaseServicer):
    """Serves Lease RPCs for ``server`` (an ``EtcdServer``)."""

    def __init__(self, server: KVServer) -> None:
        self._server = server

    async def LeaseGrant(
        self, request: rpc_pb2.LeaseGrantRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> rpc_pb2.LeaseGrantResponse:
        try:
            return await self._server.lease_grant(request)
        except EtcdServerError as err:
            await _abort(context, err)

    async def LeaseRevoke(
        self, request: rpc_pb2.LeaseRevokeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> rpc_pb2.LeaseRevokeResponse:
        try:
            return await self._server.lease_revoke(request)
        except EtcdServerError as err:
            await _abort(context, err)

    async def LeaseKeepAlive(
        self,
        request_iterator: AsyncIterator[rpc_pb2.LeaseKeepAliveRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[rpc_pb2.LeaseKeepAliveResponse]:
        lessor = self._server.lessor
        async for req in request_iterator:
            header = self._server.header()  # before the renew (see module docstring)
            try:
                ttl = lessor.renew(req.ID)
            except EtcdServerError:  # LEASE_NOT_FOUND: unknown or expired
                ttl = 0
            yield rpc_pb2.LeaseKeepAliveResponse(header=header, ID=req.ID, TTL=ttl)

    async def LeaseTimeToLive(
        self, request: rpc_pb2.LeaseTimeToLiveRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> rpc_pb2.LeaseTimeToLiveResponse:
        header = self._server.header()
        lease = self._server.lessor.lookup(request.ID)
        if lease is None:
            return rpc_pb2.LeaseTimeToLiveResponse(header=header, ID=request.ID, TTL=-1)
        # etcd truncates the remaining duration to whole seconds; an expired lease
        # awaiting its revoke reports 0, never -1 (which means "not found").
        remaining = max(0, int(lease.remaining()))
        keys = sorted(lease.keys) if request.keys else []
        return rpc_pb2.LeaseTimeToLiveResponse(
            header=header, ID=request.ID, TTL=remaining, grantedTTL=lease.ttl, keys=keys
        )

    async def LeaseLeases(
        self, request: rpc_pb2.LeaseLeasesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> rpc_pb2.LeaseLeasesResponse:
        return rpc_pb2.LeaseLeasesResponse(
            header=self._server.header(),
            leases=[rpc_pb2.LeaseStatus(ID=lease.id) for lease in self._server.lessor.leases()],
        )
