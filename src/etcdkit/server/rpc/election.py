"""The ``v3electionpb.Election`` servicer (the recipe is in ``etcdkit.server.lease.election``).

Errors reach the caller as gRPC ``UNKNOWN`` with etcd's messages
(``election: not leader``, ``election: no leader``, ``"leader" field must be
provided``, or the underlying server error such as ``etcdserver: permission
denied``), as etcd 3.4's election server does; calls act with the caller's
permissions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from etcdkit.api.pb import v3election_pb2, v3election_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease import election, mutex
from etcdkit.server.lease.kv import KVServer
from etcdkit.server.lease.watching import PollingWatches, Watches
from etcdkit.server.rpc.lock import abort_unknown

__all__ = ["ElectionServicer"]


class ElectionServicer(v3election_pb2_grpc.ElectionServicer):
    """Serves Election RPCs for ``server``; ``watches`` is how waits are done (see ``lease.watching``)."""

    def __init__(self, server: KVServer, watches: Watches | None = None) -> None:
        self._server = server
        self._watches = watches if watches is not None else PollingWatches(server)

    async def Campaign(
        self, request: v3election_pb2.CampaignRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.CampaignResponse:
        try:
            caller = self._server.who(context)
            lease = await mutex.session_lease(self._server, request.lease)
            return await election.campaign(self._server, self._watches, request.name, lease, request.value, caller)
        except EtcdServerError as err:
            await abort_unknown(context, err)

    async def Proclaim(
        self, request: v3election_pb2.ProclaimRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.ProclaimResponse:
        try:
            if not request.HasField("leader"):
                raise EtcdServerError(election.MISSING_LEADER_KEY)
            header = await election.proclaim(self._server, request.leader, request.value, self._server.who(context))
        except EtcdServerError as err:
            await abort_unknown(context, err)
        return v3election_pb2.ProclaimResponse(header=header)

    async def Leader(
        self, request: v3election_pb2.LeaderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.LeaderResponse:
        try:
            return await election.leader(self._server, request.name, self._server.who(context))
        except EtcdServerError as err:
            await abort_unknown(context, err)

    async def Observe(
        self, request: v3election_pb2.LeaderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[v3election_pb2.LeaderResponse]:
        try:
            caller = self._server.who(context)
            async for resp in election.observe(self._server, self._watches, request.name, caller):
                yield resp
        except EtcdServerError as err:
            await abort_unknown(context, err)

    async def Resign(
        self, request: v3election_pb2.ResignRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.ResignResponse:
        try:
            if not request.HasField("leader"):
                raise EtcdServerError(election.MISSING_LEADER_KEY)
            header = await election.resign(self._server, request.leader, self._server.who(context))
        except EtcdServerError as err:
            await abort_unknown(context, err)
        self._watches.notify()
        return v3election_pb2.ResignResponse(header=header)
