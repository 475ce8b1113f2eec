"""The ``v3electionpb.Election`` servicer (the recipe is in ``etcdkit.server.lease.election``).

Errors reach the caller as gRPC ``UNKNOWN`` with etcd's messages
(``election: not leader``, ``election: no leader``, ``"leader" field must be
provided``, or the underlying server error), as etcd 3.4's election server does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from etcdkit.api.pb import v3election_pb2, v3election_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease import election, mutex
from etcdkit.server.lease.kv import KVServer, RevisionFeed
from etcdkit.server.rpc.lock import abort_unknown

__all__ = ["ElectionServicer"]


class ElectionServicer(v3election_pb2_grpc.ElectionServicer):
    """Serves Election RPCs for ``server``; ``feed`` wakes waiters (see ``lease.kv``)."""

    def __init__(self, server: KVServer, feed: RevisionFeed | None = None) -> None:
        self._server = server
        self._feed = feed if feed is not None else RevisionFeed(server.current_revision)

    async def Campaign(
        self, request: v3election_pb2.CampaignRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.CampaignResponse:
        try:
            lease = await mutex.session_lease(self._server, request.lease)
            return await election.campaign(self._server, self._feed, request.name, lease, request.value)
        except EtcdServerError as err:
            await abort_unknown(context, err)

    async def Proclaim(
        self, request: v3election_pb2.ProclaimRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.ProclaimResponse:
        try:
            if not request.HasField("leader"):
                raise EtcdServerError(election.MISSING_LEADER_KEY)
            header = await election.proclaim(self._server, request.leader, request.value)
        except EtcdServerError as err:
            await abort_unknown(context, err)
        return v3election_pb2.ProclaimResponse(header=header)

    async def Leader(
        self, request: v3election_pb2.LeaderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.LeaderResponse:
        try:
            return await election.leader(self._server, request.name)
        except EtcdServerError as err:
            await abort_unknown(context, err)

    async def Observe(
        self, request: v3election_pb2.LeaderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[v3election_pb2.LeaderResponse]:
        try:
            async for resp in election.observe(self._server, self._feed, request.name):
                yield resp
        except EtcdServerError as err:
            await abort_unknown(context, err)

    async def Resign(
        self, request: v3election_pb2.ResignRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> v3election_pb2.ResignResponse:
        try:
            if not request.HasField("leader"):
                raise EtcdServerError(election.MISSING_LEADER_KEY)
            header = await election.resign(self._server, request.leader)
        except EtcdServerError as err:
            await abort_unknown(context, err)
        self._feed.notify()
        return v3election_pb2.ResignResponse(header=header)
