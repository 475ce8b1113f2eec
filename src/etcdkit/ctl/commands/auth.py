"""auth enable/disable, user and role commands as etcdctl 3.4."""

from __future__ import annotations

import sys
from typing import Any, cast

from etcdkit.api.keys import FROM_KEY, prefix_end
from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, CtlError
from etcdkit.ctl._prompt import ask_hidden
from etcdkit.ctl.commands._args import arg_bytes

__all__ = [
    "auth_disable", "auth_enable", "auth_status", "role_add", "role_delete", "role_get", "role_grant_permission",
    "role_list",
    "role_revoke_permission", "user_add", "user_delete", "user_get", "user_grant_role", "user_list",
    "user_passwd", "user_revoke_role",
]  # fmt: skip


def _nargs(ctx: Context, n: int, message: str) -> None:
    if len(ctx.args) != n:
        raise CtlError(EXIT_BAD_ARGS, message)


def _call(ctx: Context, method: str, req: Any) -> Any:
    return ctx.conn().unary("Auth", method, req)


def auth_enable(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure

    _nargs(ctx, 0, "auth enable command does not accept any arguments")
    for _ in range(3):
        try:
            _call(ctx, "AuthEnable", rpc_pb2.AuthEnableRequest())
            break
        except RpcFailure as exc:
            if exc.text != "etcdserver: root user does not have root role":
                raise
            _call(ctx, "RoleAdd", rpc_pb2.AuthRoleAddRequest(name="root"))
            _call(ctx, "UserGrantRole", rpc_pb2.AuthUserGrantRoleRequest(user="root", role="root"))
    ctx.out("Authentication Enabled\n")
    return 0


def auth_disable(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 0, "auth disable command does not accept any arguments")
    _call(ctx, "AuthDisable", rpc_pb2.AuthDisableRequest())
    ctx.out("Authentication Disabled\n")
    return 0


def auth_status(ctx: Context) -> int:
    """etcdctl 3.5's ``auth status`` (hidden: etcdctl 3.4 has no such command)."""
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 0, "auth status command does not accept any arguments")
    ctx.print("auth_status", _call(ctx, "AuthStatus", rpc_pb2.AuthStatusRequest()))
    return 0


def _read_password(ctx: Context, name: str, interactive: bool) -> str:
    if not interactive:
        line = sys.stdin.readline()
        return line.split()[0] if line.split() else ""
    first = ask_hidden(ctx.out, ctx.err, f"Password of {name}: ")
    again = ask_hidden(ctx.out, ctx.err, f"Type password of {name} again for confirmation: ")
    if first != again:
        raise CtlError(EXIT_BAD_ARGS, "given passwords are different")
    return first


def user_add(ctx: Context) -> int:
    from etcdkit.api.pb import auth_pb2, rpc_pb2

    _nargs(ctx, 1, "user add command requires user name as its argument")
    v = ctx.values
    no_password = bool(v["no-password"])
    password = ""
    if v["new-user-password"]:
        user, password = ctx.args[0], v["new-user-password"]
    elif ":" in ctx.args[0]:
        user, password = ctx.args[0].split(":", 1)
        if not user:
            raise CtlError(EXIT_BAD_ARGS, "empty user name is not allowed")
    else:
        user = ctx.args[0]
        if not no_password:
            password = _read_password(ctx, user, bool(v["interactive"]))
    req = rpc_pb2.AuthUserAddRequest(name=user, password=password,
                                     options=auth_pb2.UserAddOptions(no_password=no_password))
    ctx.print("user_add", user, _call(ctx, "UserAdd", req))
    return 0


def user_delete(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 1, "user delete command requires user name as its argument")
    ctx.print("user_delete", ctx.args[0], _call(ctx, "UserDelete", rpc_pb2.AuthUserDeleteRequest(name=ctx.args[0])))
    return 0


def user_get(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 1, "user get command requires user name as its argument")
    name = ctx.args[0]
    resp = _call(ctx, "UserGet", rpc_pb2.AuthUserGetRequest(name=name))
    if not ctx.values["detail"]:
        ctx.print("user_get", name, resp)
        return 0
    ctx.out(f"User: {name}\n")
    for role in resp.roles:
        ctx.out("\n")
        ctx.print("role_get", role, _call(ctx, "RoleGet", rpc_pb2.AuthRoleGetRequest(role=role)))
    return 0


def user_list(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 0, "user list command requires no arguments")
    ctx.print("user_list", _call(ctx, "UserList", rpc_pb2.AuthUserListRequest()))
    return 0


def user_passwd(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 1, "user passwd command requires user name as its argument")
    password = _read_password(ctx, ctx.args[0], bool(ctx.values["interactive"]))
    req = rpc_pb2.AuthUserChangePasswordRequest(name=ctx.args[0], password=password)
    ctx.print("user_change_password", _call(ctx, "UserChangePassword", req))
    return 0


def user_grant_role(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 2, "user grant command requires user name and role name as its argument")
    user, role = ctx.args
    resp = _call(ctx, "UserGrantRole", rpc_pb2.AuthUserGrantRoleRequest(user=user, role=role))
    ctx.print("user_grant_role", user, role, resp)
    return 0


def user_revoke_role(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 2, "user revoke-role requires user name and role name as its argument")
    user, role = ctx.args
    resp = _call(ctx, "UserRevokeRole", rpc_pb2.AuthUserRevokeRoleRequest(name=user, role=role))
    ctx.print("user_revoke_role", user, role, resp)
    return 0


def role_add(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 1, "role add command requires role name as its argument")
    ctx.print("role_add", ctx.args[0], _call(ctx, "RoleAdd", rpc_pb2.AuthRoleAddRequest(name=ctx.args[0])))
    return 0


def role_delete(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 1, "role delete command requires role name as its argument")
    ctx.print("role_delete", ctx.args[0], _call(ctx, "RoleDelete", rpc_pb2.AuthRoleDeleteRequest(role=ctx.args[0])))
    return 0


def role_get(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 1, "role get command requires role name as its argument")
    ctx.print("role_get", ctx.args[0], _call(ctx, "RoleGet", rpc_pb2.AuthRoleGetRequest(role=ctx.args[0])))
    return 0


def role_list(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    _nargs(ctx, 0, "role list command requires no arguments")
    ctx.print("role_list", _call(ctx, "RoleList", rpc_pb2.AuthRoleListRequest()))
    return 0


def _perm_range(ctx: Context, args: list[str]) -> tuple[bytes, bytes]:
    """etcdctl's ``permRange``/``rangeEndFromPermFlags``."""
    prefix, from_key = ctx.values["prefix"], ctx.values["from-key"]
    key = arg_bytes(args[0])
    both = "--from-key and --prefix flags are mutually exclusive"
    if not key:
        if prefix and from_key:
            raise CtlError(EXIT_BAD_ARGS, both)
        return FROM_KEY, (FROM_KEY if prefix or from_key else b"")
    if len(args) == 1:
        if prefix:
            if from_key:
                raise CtlError(EXIT_BAD_ARGS, both)
            return key, prefix_end(key)
        return key, (FROM_KEY if from_key else b"")
    if prefix:
        raise CtlError(EXIT_BAD_ARGS, "unexpected endkey argument with --prefix flag")
    if from_key:
        raise CtlError(EXIT_BAD_ARGS, "unexpected endkey argument with --from-key flag")
    return key, arg_bytes(args[1])


def role_grant_permission(ctx: Context) -> int:
    from etcdkit.api.pb import auth_pb2, rpc_pb2

    if len(ctx.args) < 3:
        raise CtlError(EXIT_BAD_ARGS, "role grant command requires role name, permission type, and key [endkey] "
                       "as its argument")
    types = {"READ": 0, "WRITE": 1, "READWRITE": 2}
    perm_type = types.get(ctx.args[1].upper())
    if perm_type is None:
        raise CtlError(EXIT_BAD_ARGS, f"invalid permission type: {ctx.args[1]}")
    key, end = _perm_range(ctx, ctx.args[2:])
    req = rpc_pb2.AuthRoleGrantPermissionRequest(
        name=ctx.args[0], perm=auth_pb2.Permission(permType=cast(Any, perm_type), key=key, range_end=end))
    ctx.print("role_grant_permission", ctx.args[0], _call(ctx, "RoleGrantPermission", req))
    return 0


def role_revoke_permission(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    if len(ctx.args) < 2:
        raise CtlError(EXIT_BAD_ARGS, "role revoke-permission command requires role name and key [endkey] as its "
                       "argument")
    key, end = _perm_range(ctx, ctx.args[1:])
    req = rpc_pb2.AuthRoleRevokePermissionRequest(role=ctx.args[0], key=key, range_end=end)
    resp = _call(ctx, "RoleRevokePermission", req)
    ctx.print("role_revoke_permission", ctx.args[0], ctx.args[1], end.decode("utf-8", "surrogateescape"), resp)
    return 0
