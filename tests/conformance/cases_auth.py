"""Conformance: the Auth service and permission enforcement (each case on fresh servers)."""

from __future__ import annotations

from typing import Any

import grpc

from etcdkit.api.pb import auth_pb2
from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn, case

Perm = auth_pb2.Permission


def _token(c: Conn, name: str, password: str) -> tuple[tuple[str, str], ...]:
    out = c.try_call(c.auth.Authenticate, pb.AuthenticateRequest(name=name, password=password))
    if isinstance(out, grpc.RpcError):
        return ()
    return (("token", out.token),)


def _setup_root(c: Conn) -> tuple[tuple[str, str], ...]:
    c.call(c.auth.UserAdd, pb.AuthUserAddRequest(name="root", password="rootpw"), "add root")
    c.call(c.auth.RoleAdd, pb.AuthRoleAddRequest(name="root"), "add role root")
    c.call(c.auth.UserGrantRole, pb.AuthUserGrantRoleRequest(user="root", role="root"), "grant root")
    c.call(c.auth.AuthEnable, pb.AuthEnableRequest(), "enable")
    return _token(c, "root", "rootpw")


def _as(c: Conn, md: Any, method: Any, req: Any, label: str) -> Any:
    return c.call(method, req, label, metadata=md)


@case(fresh=True)
def case_auth_enable_requires_root_user_and_role(c: Conn) -> None:
    c.call(c.auth.AuthEnable, pb.AuthEnableRequest(), "no root user")
    c.call(c.auth.UserAdd, pb.AuthUserAddRequest(name="root", password="pw"), "add root")
    c.call(c.auth.AuthEnable, pb.AuthEnableRequest(), "root without root role")
    c.call(c.auth.UserGrantRole, pb.AuthUserGrantRoleRequest(user="root", role="root"), "grant role root")
    c.call(c.auth.AuthEnable, pb.AuthEnableRequest(), "enable")
    c.call(c.auth.AuthEnable, pb.AuthEnableRequest(), "enable again without token")
    md = _token(c, "root", "pw")
    c.record(bool(md), "root can authenticate")
    _as(c, md, c.auth.AuthDisable, pb.AuthDisableRequest(), "disable as root")
    c.call(c.auth.AuthDisable, pb.AuthDisableRequest(), "disable again")
    c.call(c.auth.Authenticate, pb.AuthenticateRequest(name="root", password="pw"), "authenticate when disabled")


@case(fresh=True)
def case_auth_user_and_role_management(c: Conn) -> None:
    a = c.auth
    c.call(a.UserAdd, pb.AuthUserAddRequest(name="", password="x"), "empty user name")
    c.call(a.UserAdd, pb.AuthUserAddRequest(name="u1", password="p1"), "add u1")
    c.call(a.UserAdd, pb.AuthUserAddRequest(name="u1", password="p1"), "add u1 again")
    c.call(a.UserAdd, pb.AuthUserAddRequest(name="np", options=auth_pb2.UserAddOptions(no_password=True)),
           "no-password user")
    c.call(a.RoleAdd, pb.AuthRoleAddRequest(name=""), "empty role name")
    c.call(a.RoleAdd, pb.AuthRoleAddRequest(name="r1"), "add r1")
    c.call(a.RoleAdd, pb.AuthRoleAddRequest(name="r1"), "add r1 again")
    c.call(a.RoleAdd, pb.AuthRoleAddRequest(name="r0"), "add r0")
    c.call(a.UserGrantRole, pb.AuthUserGrantRoleRequest(user="u1", role="nope"), "grant unknown role")
    c.call(a.UserGrantRole, pb.AuthUserGrantRoleRequest(user="nobody", role="r1"), "grant to unknown user")
    c.call(a.UserGrantRole, pb.AuthUserGrantRoleRequest(user="u1", role="r1"), "grant r1")
    c.call(a.UserGrantRole, pb.AuthUserGrantRoleRequest(user="u1", role="r0"), "grant r0")
    c.call(a.UserGrantRole, pb.AuthUserGrantRoleRequest(user="u1", role="r1"), "grant r1 twice")
    c.call(a.UserGet, pb.AuthUserGetRequest(name="u1"), "u1 roles sorted")
    c.call(a.UserGet, pb.AuthUserGetRequest(name="nobody"), "get unknown user")
    grant = pb.AuthRoleGrantPermissionRequest
    c.call(a.RoleGrantPermission, grant(name="r1", perm=Perm(permType=Perm.READ, key=b"/b", range_end=b"/c")),
           "grant read [/b,/c)")
    c.call(a.RoleGrantPermission, grant(name="r1", perm=Perm(permType=Perm.WRITE, key=b"/a")), "grant write /a")
    c.call(a.RoleGrantPermission, grant(name="r1", perm=Perm(permType=Perm.READWRITE, key=b"/b", range_end=b"/c")),
           "regrant [/b,/c) as readwrite")
    c.call(a.RoleGrantPermission, grant(name="zz", perm=Perm(key=b"/a")), "grant to unknown role")
    c.call(a.RoleGet, pb.AuthRoleGetRequest(role="r1"), "r1 permissions")
    c.call(a.RoleRevokePermission, pb.AuthRoleRevokePermissionRequest(role="r1", key=b"/x"), "revoke missing perm")
    c.call(a.RoleRevokePermission, pb.AuthRoleRevokePermissionRequest(role="r1", key=b"/a"), "revoke write /a")
    c.call(a.RoleGet, pb.AuthRoleGetRequest(role="r1"), "r1 after revoke")
    c.call(a.UserRevokeRole, pb.AuthUserRevokeRoleRequest(name="u1", role="r9"), "revoke role not granted")
    c.call(a.RoleDelete, pb.AuthRoleDeleteRequest(role="r0"), "delete r0")
    c.call(a.UserGet, pb.AuthUserGetRequest(name="u1"), "r0 gone from u1")
    c.call(a.RoleDelete, pb.AuthRoleDeleteRequest(role="r0"), "delete r0 again")
    c.call(a.UserList, pb.AuthUserListRequest(), "users")
    c.call(a.RoleList, pb.AuthRoleListRequest(), "roles")
    c.call(a.UserChangePassword, pb.AuthUserChangePasswordRequest(name="nobody", password="x"), "change pw unknown")
    c.call(a.UserDelete, pb.AuthUserDeleteRequest(name="u1"), "delete u1")
    c.call(a.UserDelete, pb.AuthUserDeleteRequest(name="u1"), "delete u1 again")
    c.call(a.UserList, pb.AuthUserListRequest(), "users after delete")


@case(fresh=True)
def case_auth_permissions_are_enforced(c: Conn) -> None:
    root = _setup_root(c)
    _as(c, root, c.auth.UserAdd, pb.AuthUserAddRequest(name="carol", password="pw"), "add carol")
    _as(c, root, c.auth.RoleAdd, pb.AuthRoleAddRequest(name="rw"), "add rw")
    _as(c, root, c.auth.RoleAdd, pb.AuthRoleAddRequest(name="ro"), "add ro")
    grant = pb.AuthRoleGrantPermissionRequest
    _as(c, root, c.auth.RoleGrantPermission,
        grant(name="rw", perm=Perm(permType=Perm.READWRITE, key=b"/a/", range_end=b"/a0")), "rw on /a/")
    _as(c, root, c.auth.RoleGrantPermission,
        grant(name="ro", perm=Perm(permType=Perm.READ, key=b"/r/", range_end=b"\x00")), "ro from /r/")
    for role in ("rw", "ro"):
        _as(c, root, c.auth.UserGrantRole, pb.AuthUserGrantRoleRequest(user="carol", role=role), f"grant {role}")
    carol = _token(c, "carol", "pw")
    c.record(bool(carol), "carol authenticated")
    c.call(c.kv.Put, pb.PutRequest(key=b"/a/1", value=b"v"), "no token")
    c.call(c.kv.Put, pb.PutRequest(key=b"/a/1", value=b"v"), "bad token", metadata=(("token", "nope.1"),))
    c.call(c.auth.Authenticate, pb.AuthenticateRequest(name="carol", password="bad"), "wrong password")
    c.call(c.auth.Authenticate, pb.AuthenticateRequest(name="nobody", password="x"), "unknown user")
    _as(c, carol, c.kv.Put, pb.PutRequest(key=b"/a/1", value=b"v"), "put inside rw")
    _as(c, carol, c.kv.Range, pb.RangeRequest(key=b"/a/1"), "get inside rw")
    _as(c, carol, c.kv.Range, pb.RangeRequest(key=b"/a/", range_end=b"/a0"), "prefix inside rw")
    _as(c, carol, c.kv.Range, pb.RangeRequest(key=b"/a/", range_end=b"/b"), "range beyond rw")
    _as(c, carol, c.kv.Put, pb.PutRequest(key=b"/b", value=b"v"), "put outside")
    _as(c, root, c.kv.Put, pb.PutRequest(key=b"/r/x", value=b"v"), "root writes anywhere")
    _as(c, carol, c.kv.Range, pb.RangeRequest(key=b"/r/", range_end=b"\x00"), "from-key read on ro")
    _as(c, carol, c.kv.Range, pb.RangeRequest(key=b"/zzz"), "key after /r/ is readable")
    _as(c, carol, c.kv.Put, pb.PutRequest(key=b"/r/x", value=b"w"), "write on read-only")
    _as(c, carol, c.kv.DeleteRange, pb.DeleteRangeRequest(key=b"/a/1", prev_kv=True), "delete with prev_kv in rw")
    txn = pb.TxnRequest(
        compare=[pb.Compare(key=b"/r/x", target=pb.Compare.VERSION, result=pb.Compare.GREATER, version=0)],
        success=[pb.RequestOp(request_put=pb.PutRequest(key=b"/a/2", value=b"t"))],
        failure=[pb.RequestOp(request_put=pb.PutRequest(key=b"/r/y", value=b"t"))],
    )
    _as(c, carol, c.kv.Txn, txn, "txn whose failure branch writes read-only keys")
    del txn.failure[:]
    _as(c, carol, c.kv.Txn, txn, "txn within permissions")
    _as(c, carol, c.maintenance.Alarm, pb.AlarmRequest(action=pb.AlarmRequest.GET), "alarm as carol")
    _as(c, root, c.maintenance.Alarm, pb.AlarmRequest(action=pb.AlarmRequest.GET), "alarm as root")
    _as(c, carol, c.auth.UserGet, pb.AuthUserGetRequest(name="carol"), "carol gets herself")
    _as(c, carol, c.auth.UserGet, pb.AuthUserGetRequest(name="root"), "carol gets root")
    _as(c, carol, c.auth.RoleGet, pb.AuthRoleGetRequest(role="rw"), "carol gets her role")
    _as(c, carol, c.auth.RoleGet, pb.AuthRoleGetRequest(role="root"), "carol gets role root")
    _as(c, carol, c.auth.UserList, pb.AuthUserListRequest(), "carol lists users")
    _as(c, carol, c.auth.RoleAdd, pb.AuthRoleAddRequest(name="mine"), "carol adds a role")
    _as(c, carol, c.auth.AuthDisable, pb.AuthDisableRequest(), "carol disables auth")
    _as(c, root, c.auth.UserDelete, pb.AuthUserDeleteRequest(name="root"), "delete root while enabled")
    _as(c, root, c.auth.RoleDelete, pb.AuthRoleDeleteRequest(role="root"), "delete role root while enabled")
    _as(c, root, c.auth.UserRevokeRole, pb.AuthUserRevokeRoleRequest(name="root", role="root"), "revoke root")
    _as(c, root, c.auth.UserChangePassword, pb.AuthUserChangePasswordRequest(name="carol", password="new"),
        "change carol's password")
    _as(c, carol, c.kv.Range, pb.RangeRequest(key=b"/a/1"), "old token after password change")
    c.record(bool(_token(c, "carol", "new")), "new password works")
    _as(c, root, c.auth.AuthDisable, pb.AuthDisableRequest(), "disable")
    c.call(c.kv.Range, pb.RangeRequest(key=b"/r/x"), "no token needed once disabled")


def _watch_once(c: Conn, md: Any, create: pb.WatchCreateRequest) -> Any:
    """Open a stream with ``md``, send one create, return the first response (or the error)."""
    stream = c.watch.Watch(iter([pb.WatchRequest(create_request=create)]), timeout=5, metadata=md)
    try:
        return next(stream)
    except grpc.RpcError as err:
        return err
    finally:
        stream.cancel()


@case(fresh=True)
def case_auth_watch_needs_read_permission(c: Conn) -> None:
    root = _setup_root(c)
    _as(c, root, c.auth.UserAdd, pb.AuthUserAddRequest(name="dan", password="pw"), "add dan")
    _as(c, root, c.auth.RoleAdd, pb.AuthRoleAddRequest(name="ra"), "add ra")
    _as(c, root, c.auth.RoleGrantPermission, pb.AuthRoleGrantPermissionRequest(
        name="ra", perm=Perm(permType=Perm.READ, key=b"/a/", range_end=b"/a0")), "read on /a/")
    _as(c, root, c.auth.UserGrantRole, pb.AuthUserGrantRoleRequest(user="dan", role="ra"), "grant ra")
    dan = _token(c, "dan", "pw")
    c.record(_watch_once(c, dan, pb.WatchCreateRequest(key=b"/a/x")), "watch a readable key")
    c.record(_watch_once(c, dan, pb.WatchCreateRequest(key=b"/a/", range_end=b"/a0")), "watch the readable prefix")
    c.record(_watch_once(c, dan, pb.WatchCreateRequest(key=b"/b")), "watch an unreadable key")
    c.record(_watch_once(c, dan, pb.WatchCreateRequest(key=b"/a/", range_end=b"/b")), "watch beyond the prefix")
    c.record(_watch_once(c, (), pb.WatchCreateRequest(key=b"/a/x")), "watch without a token")
