"""The embedding API: a member in this process, on a free port, gone after stop()."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import grpc

import etcdkit.embed
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc


def test_embedded_server_serves_and_keeps_data_across_restart(tmp_path: Path) -> None:
    before = {t.name for t in threading.enumerate()}
    with etcdkit.embed.Server(data_dir=tmp_path / "d", port=0) as srv, grpc.insecure_channel(srv.endpoint) as ch:
        kv = rpc_pb2_grpc.KVStub(ch)
        assert kv.Put(rpc_pb2.PutRequest(key=b"k", value=b"v"), timeout=10).header.revision == 2
    assert "etcdkit-embed" not in {t.name for t in threading.enumerate()} - before
    with etcdkit.embed.Server(data_dir=tmp_path / "d", port=0) as srv, grpc.insecure_channel(srv.endpoint) as ch:
        resp = rpc_pb2_grpc.KVStub(ch).Range(rpc_pb2.RangeRequest(key=b"k"), timeout=10)
        assert [(kv.key, kv.value) for kv in resp.kvs] == [(b"k", b"v")]
        assert resp.header.revision == 2


def test_async_server_runs_on_the_callers_loop(tmp_path: Path) -> None:
    asyncio.run(_async_server(tmp_path))


async def _async_server(tmp_path: Path) -> None:
    srv = etcdkit.embed.AsyncServer(data_dir=tmp_path / "a", port=0, max_txn_ops=2)
    async with srv, grpc.aio.insecure_channel(srv.endpoint) as ch:
        kv = rpc_pb2_grpc.KVStub(ch)
        ops = [rpc_pb2.RequestOp(request_range=rpc_pb2.RangeRequest(key=b"x"))] * 3
        try:
            await kv.Txn(rpc_pb2.TxnRequest(success=ops), timeout=10)
        except grpc.aio.AioRpcError as err:
            assert err.details() == "etcdserver: too many operations in txn request"
        else:
            raise AssertionError("max_txn_ops=2 was not applied")
