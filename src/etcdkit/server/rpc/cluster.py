"""The Cluster service for a single member.

Membership changes need Raft (not yet): MemberAdd/Remove/Promote answer
``etcdserver: not capable``; MemberUpdate of this member is not persisted either.
"""

from __future__ import annotations

from typing import Any

import grpc

from etcdkit.api import errors
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.etcdserver import EtcdServer
from etcdkit.server.rpc.util import mapped

__all__ = ["ClusterServicer"]

Ctx = grpc.aio.ServicerContext[Any, Any]


class ClusterServicer(rpc_pb2_grpc.ClusterServicer):
    def __init__(self, server: EtcdServer) -> None:
        self.s = server

    def _self_member(self) -> rpc_pb2.Member:
        cfg = self.s.config
        return rpc_pb2.Member(
            ID=self.s.member_id,
            name=cfg.name,
            peerURLs=list(cfg.peer_urls()),
            clientURLs=list(cfg.advertise_client_urls),
        )

    @mapped
    async def MemberList(
        self, request: rpc_pb2.MemberListRequest, context: Ctx
    ) -> rpc_pb2.MemberListResponse:
        # etcd fills cluster/member/term but leaves the revision unset here.
        h = self.s.header(0)
        return rpc_pb2.MemberListResponse(header=h, members=[self._self_member()])

    @mapped
    async def MemberAdd(self, request: rpc_pb2.MemberAddRequest, context: Ctx) -> rpc_pb2.MemberAddResponse:
        raise EtcdServerError(errors.NOT_CAPABLE)

    @mapped
    async def MemberRemove(
        self, request: rpc_pb2.MemberRemoveRequest, context: Ctx
    ) -> rpc_pb2.MemberRemoveResponse:
        if self.s.member_id != request.ID:
            raise EtcdServerError(errors.MEMBER_NOT_FOUND)
        raise EtcdServerError(errors.NOT_CAPABLE)

    @mapped
    async def MemberUpdate(
        self, request: rpc_pb2.MemberUpdateRequest, context: Ctx
    ) -> rpc_pb2.MemberUpdateResponse:
        if self.s.member_id != request.ID:
            raise EtcdServerError(errors.MEMBER_NOT_FOUND)
        raise EtcdServerError(errors.NOT_CAPABLE)

    @mapped
    async def MemberPromote(
        self, request: rpc_pb2.MemberPromoteRequest, context: Ctx
    ) -> rpc_pb2.MemberPromoteResponse:
        if self.s.member_id != request.ID:
            raise EtcdServerError(errors.MEMBER_NOT_FOUND)
        raise EtcdServerError(errors.MEMBER_NOT_LEARNER)
