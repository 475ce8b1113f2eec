"""A from-key watch is checked on its open-ended range (etcd GHSA-xg4h-6gfc-h4m8).

etcd before the fix normalised ``range_end = b"\\0"`` away before the
permission check, so a user allowed to read one key could watch every key
after it. etcdkit checks the range as sent; real etcd 3.4.23 still has the
bug, so this is an etcdkit-only test rather than a conformance case.
"""

from __future__ import annotations

import grpc

from etcdkit.api.pb import auth_pb2, rpc_pb2, rpc_pb2_grpc
from etcdkit.testing import EtcdkitProcess


def test_from_key_watch_needs_permission_on_the_whole_open_range() -> None:
    with EtcdkitProcess(extra_args=["--bcrypt-cost=4"]) as srv, grpc.insecure_channel(srv.endpoint) as ch:
        auth = rpc_pb2_grpc.AuthStub(ch)
        auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="root", password="pw"), timeout=10)
        auth.UserGrantRole(rpc_pb2.AuthUserGrantRoleRequest(user="root", role="root"), timeout=10)
        auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="eve", password="pw"), timeout=10)
        auth.RoleAdd(rpc_pb2.AuthRoleAddRequest(name="one"), timeout=10)
        perm = auth_pb2.Permission(permType=auth_pb2.Permission.READ, key=b"/public")
        auth.RoleGrantPermission(rpc_pb2.AuthRoleGrantPermissionRequest(name="one", perm=perm), timeout=10)
        auth.UserGrantRole(rpc_pb2.AuthUserGrantRoleRequest(user="eve", role="one"), timeout=10)
        auth.AuthEnable(rpc_pb2.AuthEnableRequest(), timeout=10)
        token = auth.Authenticate(rpc_pb2.AuthenticateRequest(name="eve", password="pw"), timeout=10).token
        create = rpc_pb2.WatchCreateRequest(key=b"/public", range_end=b"\x00")
        stream = rpc_pb2_grpc.WatchStub(ch).Watch(
            iter([rpc_pb2.WatchRequest(create_request=create)]), timeout=10, metadata=(("token", token),)
        )
        first = next(stream)
        stream.cancel()
        assert (first.created, first.canceled, first.watch_id) == (True, True, -1)
        assert first.cancel_reason.endswith("etcdserver: permission denied")
