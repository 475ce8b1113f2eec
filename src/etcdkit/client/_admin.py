"""Cluster, Maintenance and Auth APIs of ``AsyncClient``.

Membership and auth changes are writes (never retried once sent); status,
lists and gets are reads. Maintenance calls that target one member
(``status``, ``hash_kv``, ``defragment``, ``snapshot``) take an optional
``endpoint``; without it they go to the current endpoint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc

from etcdkit.api.pb import auth_pb2, rpc_pb2
from etcdkit.client._base import ClientBase
from etcdkit.client._convert import header, member
from etcdkit.client._transport import Metadata, Stubs, map_rpc_error
from etcdkit.client.exceptions import SnapshotIntegrityError
from etcdkit.client.types import (
    Alarm,
    AlarmType,
    AuthStatus,
    HashKVResponse,
    MemberListResponse,
    Permission,
    PermissionType,
    StatusResponse,
)

__all__ = ["AdminMixin"]

R = TypeVar("R")
_SHA_LEN = 32


class AdminMixin(ClientBase):
    """Cluster membership, maintenance and auth management."""

    async def _one(
        self, fn: Callable[[Stubs, float | None, Metadata], Awaitable[R]], *, idempotent: bool, endpoint: str | None
    ) -> R:
        if endpoint is None:
            return await self._transport.call(fn, idempotent=idempotent)
        tr = self._transport
        stubs = await tr.wait_ready(endpoint, tr.config.dial_timeout)
        md = await tr.metadata(endpoint, stubs)
        try:
            return await fn(stubs, tr.config.request_timeout, md)
        except grpc.RpcError as e:
            raise map_rpc_error(e, endpoint) from None

    # --- cluster -------------------------------------------------------------------

    async def member_list(self, *, linearizable: bool = False) -> MemberListResponse:
        req = rpc_pb2.MemberListRequest(linearizable=linearizable)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.MemberListResponse:
            return await s.cluster.MemberList(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=True)
        return MemberListResponse(header(r.header), tuple(member(m) for m in r.members))

    async def member_add(self, peer_urls: list[str], *, is_learner: bool = False) -> MemberListResponse:
        req = rpc_pb2.MemberAddRequest(peerURLs=peer_urls, isLearner=is_learner)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.MemberAddResponse:
            return await s.cluster.MemberAdd(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=False)
        return MemberListResponse(header(r.header), tuple(member(m) for m in r.members), member(r.member))

    async def member_remove(self, member_id: int) -> MemberListResponse:
        req = rpc_pb2.MemberRemoveRequest(ID=member_id)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.MemberRemoveResponse:
            return await s.cluster.MemberRemove(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=False)
        return MemberListResponse(header(r.header), tuple(member(m) for m in r.members))

    async def member_update(self, member_id: int, peer_urls: list[str]) -> MemberListResponse:
        req = rpc_pb2.MemberUpdateRequest(ID=member_id, peerURLs=peer_urls)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.MemberUpdateResponse:
            return await s.cluster.MemberUpdate(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=False)
        return MemberListResponse(header(r.header), tuple(member(m) for m in r.members))

    async def member_promote(self, member_id: int) -> MemberListResponse:
        req = rpc_pb2.MemberPromoteRequest(ID=member_id)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.MemberPromoteResponse:
            return await s.cluster.MemberPromote(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=False)
        return MemberListResponse(header(r.header), tuple(member(m) for m in r.members))

    # --- maintenance ---------------------------------------------------------------

    async def status(self, endpoint: str | None = None) -> StatusResponse:
        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.StatusResponse:
            return await s.maintenance.Status(rpc_pb2.StatusRequest(), timeout=t, metadata=md)

        r = await self._one(fn, idempotent=True, endpoint=endpoint)
        return StatusResponse(
            header(r.header),
            r.version,
            r.dbSize,
            r.leader,
            r.raftIndex,
            r.raftTerm,
            r.raftAppliedIndex,
            tuple(r.errors),
            r.dbSizeInUse,
            r.isLearner,
        )

    async def hash_kv(self, revision: int = 0, endpoint: str | None = None) -> HashKVResponse:
        req = rpc_pb2.HashKVRequest(revision=revision)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.HashKVResponse:
            return await s.maintenance.HashKV(req, timeout=t, metadata=md)

        r = await self._one(fn, idempotent=True, endpoint=endpoint)
        return HashKVResponse(header(r.header), r.hash, r.compact_revision)

    async def defragment(self, endpoint: str | None = None) -> None:
        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.DefragmentResponse:
            return await s.maintenance.Defragment(rpc_pb2.DefragmentRequest(), timeout=t, metadata=md)

        await self._one(fn, idempotent=True, endpoint=endpoint)

    async def alarms(self) -> tuple[Alarm, ...]:
        """Active alarms of every member."""
        return await self._alarm(rpc_pb2.AlarmRequest.AlarmAction.GET, 0, AlarmType.NONE)

    async def alarm_disarm(self, member_id: int = 0, alarm: AlarmType = AlarmType.NONE) -> tuple[Alarm, ...]:
        """Deactivate an alarm (member 0 and NONE: every alarm); returns the alarms disarmed."""
        return await self._alarm(rpc_pb2.AlarmRequest.AlarmAction.DEACTIVATE, member_id, alarm)

    async def _alarm(self, action: int, member_id: int, alarm: AlarmType) -> tuple[Alarm, ...]:
        req = rpc_pb2.AlarmRequest(action=action, memberID=member_id, alarm=alarm.value)  # type: ignore[arg-type]

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.AlarmResponse:
            return await s.maintenance.Alarm(req, timeout=t, metadata=md)

        r = await self._transport.call(fn, idempotent=action == rpc_pb2.AlarmRequest.AlarmAction.GET)
        return tuple(Alarm(a.memberID, AlarmType(a.alarm)) for a in r.alarms)

    async def move_leader(self, target_id: int) -> None:
        """Transfer leadership to member ``target_id``; must be sent to the leader."""
        req = rpc_pb2.MoveLeaderRequest(targetID=target_id)
        st = await self.status()
        members = await self.member_list()
        leader_eps = [u for m in members.members if m.id == st.leader for u in m.client_urls]

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.MoveLeaderResponse:
            return await s.maintenance.MoveLeader(req, timeout=t, metadata=md)

        endpoint = _host_port(leader_eps[0]) if leader_eps else None
        await self._one(fn, idempotent=False, endpoint=endpoint)

    async def snapshot(self, path: str | os.PathLike[str], endpoint: str | None = None) -> int:
        """Stream a snapshot of the backend into ``path``; return its size in bytes.

        etcd appends the SHA-256 of the database to the stream; it is checked
        and stripped. The file appears atomically (written to ``path.part``
        and renamed); on any error nothing is left at ``path``.
        """
        tr = self._transport
        ep = endpoint or tr.picker.current
        stubs = await tr.wait_ready(ep, tr.config.dial_timeout)
        md = await tr.metadata(ep, stubs)
        target = Path(path)
        part = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        tail = b""
        size = 0
        try:
            with open(part, "wb") as f:
                async for chunk in stubs.maintenance.Snapshot(rpc_pb2.SnapshotRequest(), metadata=md):
                    data = tail + chunk.blob
                    # Keep the last 32 bytes back: they may be the trailer.
                    body, tail = data[:-_SHA_LEN], data[-_SHA_LEN:]
                    digest.update(body)
                    f.write(body)
                    size += len(body)
            if len(tail) != _SHA_LEN or digest.digest() != tail:
                raise SnapshotIntegrityError(f"snapshot from {ep}: SHA-256 trailer mismatch")
            os.replace(part, target)
        except grpc.RpcError as e:
            part.unlink(missing_ok=True)
            raise map_rpc_error(e, ep) from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return size

    # --- auth ----------------------------------------------------------------------

    async def _auth(self, name: str, req: object, *, idempotent: bool = False) -> object:
        async def fn(s: Stubs, t: float | None, md: Metadata) -> object:
            return await getattr(s.auth, name)(req, timeout=t, metadata=md)

        return await self._transport.call(fn, idempotent=idempotent)

    async def auth_enable(self) -> None:
        await self._auth("AuthEnable", rpc_pb2.AuthEnableRequest())

    async def auth_disable(self) -> None:
        await self._auth("AuthDisable", rpc_pb2.AuthDisableRequest())

    async def auth_status(self) -> AuthStatus:
        r = await self._auth("AuthStatus", rpc_pb2.AuthStatusRequest(), idempotent=True)
        assert isinstance(r, rpc_pb2.AuthStatusResponse)
        return AuthStatus(header(r.header), r.enabled, r.authRevision)

    async def authenticate(self, name: str, password: str) -> str:
        """Return a token for ``name``. The client authenticates by itself when configured."""
        r = await self._auth("Authenticate", rpc_pb2.AuthenticateRequest(name=name, password=password), idempotent=True)
        assert isinstance(r, rpc_pb2.AuthenticateResponse)
        return r.token

    async def user_add(self, name: str, password: str = "", *, no_password: bool = False) -> None:
        opts = auth_pb2.UserAddOptions(no_password=no_password)
        await self._auth("UserAdd", rpc_pb2.AuthUserAddRequest(name=name, password=password, options=opts))

    async def user_get(self, name: str) -> tuple[str, ...]:
        """The roles granted to ``name``."""
        r = await self._auth("UserGet", rpc_pb2.AuthUserGetRequest(name=name), idempotent=True)
        assert isinstance(r, rpc_pb2.AuthUserGetResponse)
        return tuple(r.roles)

    async def user_list(self) -> tuple[str, ...]:
        r = await self._auth("UserList", rpc_pb2.AuthUserListRequest(), idempotent=True)
        assert isinstance(r, rpc_pb2.AuthUserListResponse)
        return tuple(r.users)

    async def user_delete(self, name: str) -> None:
        await self._auth("UserDelete", rpc_pb2.AuthUserDeleteRequest(name=name))

    async def user_change_password(self, name: str, password: str) -> None:
        await self._auth("UserChangePassword", rpc_pb2.AuthUserChangePasswordRequest(name=name, password=password))

    async def user_grant_role(self, user: str, role: str) -> None:
        await self._auth("UserGrantRole", rpc_pb2.AuthUserGrantRoleRequest(user=user, role=role))

    async def user_revoke_role(self, user: str, role: str) -> None:
        await self._auth("UserRevokeRole", rpc_pb2.AuthUserRevokeRoleRequest(name=user, role=role))

    async def role_add(self, name: str) -> None:
        await self._auth("RoleAdd", rpc_pb2.AuthRoleAddRequest(name=name))

    async def role_get(self, name: str) -> tuple[Permission, ...]:
        r = await self._auth("RoleGet", rpc_pb2.AuthRoleGetRequest(role=name), idempotent=True)
        assert isinstance(r, rpc_pb2.AuthRoleGetResponse)
        return tuple(Permission(PermissionType(p.permType), p.key, p.range_end) for p in r.perm)

    async def role_list(self) -> tuple[str, ...]:
        r = await self._auth("RoleList", rpc_pb2.AuthRoleListRequest(), idempotent=True)
        assert isinstance(r, rpc_pb2.AuthRoleListResponse)
        return tuple(r.roles)

    async def role_delete(self, name: str) -> None:
        await self._auth("RoleDelete", rpc_pb2.AuthRoleDeleteRequest(role=name))

    async def role_grant_permission(self, name: str, permission: Permission) -> None:
        """Grant ``permission``; its key range is namespaced like every key."""
        perm = auth_pb2.Permission(
            permType=permission.type.value,  # type: ignore[arg-type]
            key=self._ns.key(permission.key),
            range_end=self._ns.range_end(permission.key, permission.range_end),
        )
        await self._auth("RoleGrantPermission", rpc_pb2.AuthRoleGrantPermissionRequest(name=name, perm=perm))

    async def role_revoke_permission(self, name: str, key: bytes, range_end: bytes = b"") -> None:
        req = rpc_pb2.AuthRoleRevokePermissionRequest(
            role=name, key=self._ns.key(key), range_end=self._ns.range_end(key, range_end)
        )
        await self._auth("RoleRevokePermission", req)


def _host_port(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")
