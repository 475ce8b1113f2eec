"""Auth state (users, roles, enabled flag) survives restart; tokens do not."""

from __future__ import annotations

import grpc
import pytest

from etcdkit.api.pb import auth_pb2, rpc_pb2, rpc_pb2_grpc
from etcdkit.testing import EtcdkitProcess


def test_auth_survives_kill_9() -> None:
    srv = EtcdkitProcess(extra_args=["--bcrypt-cost=4"])
    try:
        srv.start()
        with grpc.insecure_channel(srv.endpoint) as ch:
            auth, kv = rpc_pb2_grpc.AuthStub(ch), rpc_pb2_grpc.KVStub(ch)
            auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="root", password="pw"), timeout=10)
            auth.UserGrantRole(rpc_pb2.AuthUserGrantRoleRequest(user="root", role="root"), timeout=10)
            auth.RoleAdd(rpc_pb2.AuthRoleAddRequest(name="r"), timeout=10)
            perm = auth_pb2.Permission(permType=auth_pb2.Permission.READ, key=b"/x")
            auth.RoleGrantPermission(rpc_pb2.AuthRoleGrantPermissionRequest(name="r", perm=perm), timeout=10)
            auth.AuthEnable(rpc_pb2.AuthEnableRequest(), timeout=10)
            old = auth.Authenticate(rpc_pb2.AuthenticateRequest(name="root", password="pw"), timeout=10).token
        srv.kill()
        srv.start()
        with grpc.insecure_channel(srv.endpoint) as ch:
            auth, kv = rpc_pb2_grpc.AuthStub(ch), rpc_pb2_grpc.KVStub(ch)
            with pytest.raises(grpc.RpcError) as empty:
                kv.Range(rpc_pb2.RangeRequest(key=b"/x"), timeout=10)
            assert empty.value.details() == "etcdserver: user name is empty"
            with pytest.raises(grpc.RpcError) as stale:
                kv.Range(rpc_pb2.RangeRequest(key=b"/x"), timeout=10, metadata=(("token", old),))
            assert stale.value.details() == "etcdserver: invalid auth token"
            token = auth.Authenticate(rpc_pb2.AuthenticateRequest(name="root", password="pw"), timeout=10).token
            md = (("token", token),)
            assert auth.RoleGet(rpc_pb2.AuthRoleGetRequest(role="r"), timeout=10, metadata=md).perm == [perm]
            assert kv.Put(rpc_pb2.PutRequest(key=b"/x", value=b"1"), timeout=10, metadata=md).header.revision == 2
    finally:
        srv.cleanup()
