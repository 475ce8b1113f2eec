"""The Maintenance service (Snapshot streams an etcd-format snapshot, see ``snapshot``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from etcdkit.api import errors
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.etcdserver import EtcdServer
from etcdkit.server.rpc.util import mapped
from etcdkit.server.snapshot import stream_snapshot

__all__ = ["MaintenanceServicer"]

Ctx = grpc.aio.ServicerContext[Any, Any]


class MaintenanceServicer(rpc_pb2_grpc.MaintenanceServicer):
    def __init__(self, server: EtcdServer) -> None:
        self.s = server

    @mapped
    async def Alarm(self, request: rpc_pb2.AlarmRequest, context: Ctx) -> rpc_pb2.AlarmResponse:
        return await self.s.alarm(request)

    @mapped
    async def Status(self, request: rpc_pb2.StatusRequest, context: Ctx) -> rpc_pb2.StatusResponse:
        return self.s.status()

    @mapped
    async def Defragment(
        self, request: rpc_pb2.DefragmentRequest, context: Ctx
    ) -> rpc_pb2.DefragmentResponse:
        self.s.defragment()
        return rpc_pb2.DefragmentResponse()  # etcd 3.4 sends no header here

    @mapped
    async def Hash(self, request: rpc_pb2.HashRequest, context: Ctx) -> rpc_pb2.HashResponse:
        return self.s.hash()

    @mapped
    async def HashKV(self, request: rpc_pb2.HashKVRequest, context: Ctx) -> rpc_pb2.HashKVResponse:
        return self.s.hash_kv(request.revision)

    async def Snapshot(
        self, request: rpc_pb2.SnapshotRequest, context: Ctx
    ) -> AsyncIterator[rpc_pb2.SnapshotResponse]:
        try:
            async for chunk in stream_snapshot(self.s):
                yield chunk
        except EtcdServerError as exc:
            await context.abort(exc.wire.code, exc.wire.message)

    @mapped
    async def MoveLeader(
        self, request: rpc_pb2.MoveLeaderRequest, context: Ctx
    ) -> rpc_pb2.MoveLeaderResponse:
        if request.targetID != self.s.member_id:
            raise EtcdServerError(errors.BAD_LEADER_TRANSFEREE)
        return self.s.fill(rpc_pb2.MoveLeaderResponse())

    @mapped
    async def Downgrade(
        self, request: rpc_pb2.DowngradeRequest, context: Ctx
    ) -> rpc_pb2.DowngradeResponse:
        raise EtcdServerError(errors.NOT_CAPABLE)
