"""Crashes at the write path's durability boundaries (failpoints), then restart.

* ``walAfterAppend``: the entry is durable in the WAL but was never applied;
  the client saw the server die. After restart the WAL replay applies it:
  the write is there, at the next revision, exactly once.
* ``applyAfterCommit``: applied and committed in LMDB but never acknowledged;
  after restart it is there once (the replay skips what LMDB already holds).
"""

from __future__ import annotations

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.testing import EtcdkitProcess


@pytest.mark.parametrize("point", ["walAfterAppend", "applyAfterCommit"])
def test_crash_at_boundary_then_restart(point: str) -> None:
    # The first two puts succeed; the third hits the failpoint and kills the server.
    srv = EtcdkitProcess()
    srv.extra_env = {"ETCDKIT_FAILPOINTS": f"{point}=exit@3"}
    try:
        srv.start()
        with grpc.insecure_channel(srv.endpoint) as ch:
            kv = rpc_pb2_grpc.KVStub(ch)
            for i in range(2):
                kv.Put(rpc_pb2.PutRequest(key=f"/fp/{i}".encode(), value=b"ok"), timeout=10)
            with pytest.raises(grpc.RpcError):
                kv.Put(rpc_pb2.PutRequest(key=b"/fp/2", value=b"in-flight"), timeout=10)
        assert srv.proc is not None and srv.proc.wait(timeout=10) == 97
        srv.extra_env = {}
        srv.start()
        with grpc.insecure_channel(srv.endpoint) as ch:
            kv = rpc_pb2_grpc.KVStub(ch)
            resp = kv.Range(rpc_pb2.RangeRequest(key=b"/fp/", range_end=b"/fp0"), timeout=10)
            assert [(x.key, x.create_revision) for x in resp.kvs] == [(b"/fp/0", 2), (b"/fp/1", 3), (b"/fp/2", 4)]
            assert resp.header.revision == 4
            # The log goes on from there: the next write is revision 5.
            assert kv.Put(rpc_pb2.PutRequest(key=b"/fp/3", value=b"x"), timeout=10).header.revision == 5
    finally:
        srv.cleanup()
