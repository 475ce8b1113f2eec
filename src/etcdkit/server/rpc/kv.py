"""The KV service."""

from __future__ import annotations

from typing import Any

import grpc

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.etcdserver import EtcdServer
from etcdkit.server.rpc.util import mapped

__all__ = ["KVServicer"]

Ctx = grpc.aio.ServicerContext[Any, Any]


class KVServicer(rpc_pb2_grpc.KVServicer):
    def __init__(self, server: EtcdServer) -> None:
        self.s = server

    @mapped
    async def Range(self, request: rpc_pb2.RangeRequest, context: Ctx) -> rpc_pb2.RangeResponse:
        return await self.s.range(request, self.s.who(context))

    @mapped
    async def Put(self, request: rpc_pb2.PutRequest, context: Ctx) -> rpc_pb2.PutResponse:
        return await self.s.put(request, self.s.who(context))

    @mapped
    async def DeleteRange(
        self, request: rpc_pb2.DeleteRangeRequest, context: Ctx
    ) -> rpc_pb2.DeleteRangeResponse:
        return await self.s.delete_range(request, self.s.who(context))

    @mapped
    async def Txn(self, request: rpc_pb2.TxnRequest, context: Ctx) -> rpc_pb2.TxnResponse:
        return await self.s.txn(request, self.s.who(context))

    @mapped
    async def Compact(
        self, request: rpc_pb2.CompactionRequest, context: Ctx
    ) -> rpc_pb2.CompactionResponse:
        return await self.s.compact(request)
