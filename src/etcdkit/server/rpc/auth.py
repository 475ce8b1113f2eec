"""The Auth service: user/role management (through the log), authentication, queries.

Passwords are bcrypt-hashed here, in a worker thread, before the request is
proposed (``hashedPassword``; the plaintext never reaches the log).
"""

from __future__ import annotations

import asyncio
from typing import Any

import bcrypt
import grpc

from etcdkit.api.pb import internal_pb2, rpc_pb2, rpc_pb2_grpc
from etcdkit.server.etcdserver import EtcdServer
from etcdkit.server.rpc.util import add_servicer, mapped

__all__ = ["AuthServicer", "register"]

Ctx = grpc.aio.ServicerContext[Any, Any]
IR = internal_pb2.InternalRequest


class AuthServicer(rpc_pb2_grpc.AuthServicer):
    def __init__(self, server: EtcdServer) -> None:
        self.s = server

    async def _hash(self, password: str) -> str:
        cost = self.s.config.bcrypt_cost
        loop = asyncio.get_running_loop()
        hashed = await loop.run_in_executor(None, lambda: bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)))
        return hashed.decode()

    @mapped
    async def AuthEnable(self, request: rpc_pb2.AuthEnableRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_enable=request))

    @mapped
    async def AuthDisable(self, request: rpc_pb2.AuthDisableRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_disable=request))

    @mapped
    async def AuthStatus(self, request: rpc_pb2.AuthStatusRequest, context: Ctx) -> Any:
        return self.s.fill(rpc_pb2.AuthStatusResponse(enabled=self.s.auth.enabled, authRevision=self.s.auth.revision))

    @mapped
    async def Authenticate(self, request: rpc_pb2.AuthenticateRequest, context: Ctx) -> Any:
        return await self.s.authenticate(request)

    @mapped
    async def UserAdd(self, request: rpc_pb2.AuthUserAddRequest, context: Ctx) -> Any:
        info = self.s.who(context)
        self.s.auth.check_admin(info)
        req = rpc_pb2.AuthUserAddRequest(name=request.name, options=request.options)
        if not request.options.no_password:
            req.hashedPassword = request.hashedPassword or await self._hash(request.password)
        return await self.s.auth_change(info, IR(auth_user_add=req))

    @mapped
    async def UserGet(self, request: rpc_pb2.AuthUserGetRequest, context: Ctx) -> Any:
        roles = self.s.auth.user_get(self.s.who(context), request.name)
        return self.s.fill(rpc_pb2.AuthUserGetResponse(roles=roles))

    @mapped
    async def UserList(self, request: rpc_pb2.AuthUserListRequest, context: Ctx) -> Any:
        self.s.auth.check_admin(self.s.who(context))
        return self.s.fill(rpc_pb2.AuthUserListResponse(users=sorted(self.s.auth.users)))

    @mapped
    async def UserDelete(self, request: rpc_pb2.AuthUserDeleteRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_user_delete=request))

    @mapped
    async def UserChangePassword(
        self, request: rpc_pb2.AuthUserChangePasswordRequest, context: Ctx
    ) -> Any:
        info = self.s.who(context)
        self.s.auth.check_admin(info)
        req = rpc_pb2.AuthUserChangePasswordRequest(name=request.name)
        req.hashedPassword = request.hashedPassword or await self._hash(request.password)
        return await self.s.auth_change(info, IR(auth_user_change_password=req))

    @mapped
    async def UserGrantRole(self, request: rpc_pb2.AuthUserGrantRoleRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_user_grant_role=request))

    @mapped
    async def UserRevokeRole(self, request: rpc_pb2.AuthUserRevokeRoleRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_user_revoke_role=request))

    @mapped
    async def RoleAdd(self, request: rpc_pb2.AuthRoleAddRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_role_add=request))

    @mapped
    async def RoleGet(self, request: rpc_pb2.AuthRoleGetRequest, context: Ctx) -> Any:
        perms = self.s.auth.role_get(self.s.who(context), request.role)
        return self.s.fill(rpc_pb2.AuthRoleGetResponse(perm=perms))

    @mapped
    async def RoleList(self, request: rpc_pb2.AuthRoleListRequest, context: Ctx) -> Any:
        self.s.auth.check_admin(self.s.who(context))
        return self.s.fill(rpc_pb2.AuthRoleListResponse(roles=sorted(self.s.auth.roles)))

    @mapped
    async def RoleDelete(self, request: rpc_pb2.AuthRoleDeleteRequest, context: Ctx) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_role_delete=request))

    @mapped
    async def RoleGrantPermission(
        self, request: rpc_pb2.AuthRoleGrantPermissionRequest, context: Ctx
    ) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_role_grant_permission=request))

    @mapped
    async def RoleRevokePermission(
        self, request: rpc_pb2.AuthRoleRevokePermissionRequest, context: Ctx
    ) -> Any:
        return await self.s.auth_change(self.s.who(context), IR(auth_role_revoke_permission=request))


def register(server: EtcdServer, grpc_server: grpc.aio.Server) -> None:
    add_servicer(rpc_pb2_grpc.add_AuthServicer_to_server, AuthServicer(server), grpc_server)
