"""``AuthStore``: users, roles, permissions, the enabled flag and revision.

State changes only through ``apply`` (called by the apply loop with the LMDB
write transaction of the entry), so every member of a future cluster agrees.
Passwords arrive already bcrypt-hashed (``hashedPassword``, as etcd 3.5
proposes them): the log never holds a plaintext password.
"""

from __future__ import annotations

import struct
from bisect import insort
from dataclasses import dataclass
from typing import Any

import bcrypt

from etcdkit.api import errors
from etcdkit.api.pb import auth_pb2, internal_pb2, rpc_pb2
from etcdkit.server.auth.ranges import covers, to_interval
from etcdkit.server.errors import EtcdServerError

__all__ = ["ROOT", "AuthInfo", "AuthStore"]

ROOT = "root"
_U64 = struct.Struct(">Q")
_ENABLED = b"authEnabled"
_REVISION = b"authRevision"
Perm = auth_pb2.Permission


@dataclass(frozen=True, slots=True)
class AuthInfo:
    """Who sent a request (``user`` empty: no token was given)."""

    user: str
    revision: int


def _fail(wire: errors.WireError) -> EtcdServerError:
    return EtcdServerError(wire)


class AuthStore:
    """See the module docstring. Owned by the server's loop thread."""

    def __init__(self, backend: Any) -> None:
        self._users_t = backend.table(b"authUsers")
        self._roles_t = backend.table(b"authRoles")
        self._auth_t = backend.table(b"auth")
        self.users: dict[str, auth_pb2.User] = {}
        self.roles: dict[str, auth_pb2.Role] = {}
        with backend.begin() as txn:
            for _, raw in txn.cursor(db=self._users_t):
                u = auth_pb2.User.FromString(raw)
                self.users[u.name.decode()] = u
            for _, raw in txn.cursor(db=self._roles_t):
                r = auth_pb2.Role.FromString(raw)
                self.roles[r.name.decode()] = r
            en = txn.get(_ENABLED, db=self._auth_t)
            rev = txn.get(_REVISION, db=self._auth_t)
        self.enabled = en == b"\x01"
        self.revision = _U64.unpack(rev)[0] if rev else 1  # etcd's auth revision starts at 1

    # -- checks --------------------------------------------------------------
    def _user(self, info: AuthInfo) -> auth_pb2.User:
        if not info.user:
            raise _fail(errors.USER_EMPTY)
        u = self.users.get(info.user)
        if u is None:
            raise _fail(errors.PERMISSION_DENIED)
        return u

    def ever_toggled(self, txn: Any) -> bool:
        """Whether auth was ever enabled or disabled (etcd stores the flag only then)."""
        return txn.get(_ENABLED, db=self._auth_t) is not None

    def is_admin(self, info: AuthInfo | None) -> bool:
        if info is None or not self.enabled:
            return True
        return ROOT in self._user(info).roles

    def check_admin(self, info: AuthInfo | None) -> None:
        if not self.is_admin(info):
            raise _fail(errors.PERMISSION_DENIED)

    def check_range(self, info: AuthInfo | None, key: bytes, range_end: bytes, write: bool) -> None:
        """Raise unless ``info``'s user may read (or write) every key of the range."""
        if info is None or not self.enabled:
            return
        u = self._user(info)
        if ROOT in u.roles:
            return
        want = (Perm.WRITE, Perm.READWRITE) if write else (Perm.READ, Perm.READWRITE)
        perms = [
            to_interval(p.key, p.range_end)
            for role in u.roles
            if role in self.roles
            for p in self.roles[role].keyPermission
            if p.permType in want
        ]
        if not covers(perms, to_interval(key, range_end)):
            raise _fail(errors.PERMISSION_DENIED)

    def check_password(self, name: str, password: str) -> bool:
        """bcrypt comparison (slow: call it from a worker thread)."""
        u = self.users.get(name)
        if u is None or (u.options.no_password and not u.password) or not u.password:
            return False
        try:
            return bool(bcrypt.checkpw(password.encode(), u.password))
        except ValueError:
            return False

    # -- queries ---------------------------------------------------------------
    def user_get(self, info: AuthInfo | None, name: str) -> list[str]:
        if info is None or info.user != name:
            self.check_admin(info)
        u = self.users.get(name)
        if u is None:
            raise _fail(errors.USER_NOT_FOUND)
        return list(u.roles)

    def role_get(self, info: AuthInfo | None, name: str) -> list[auth_pb2.Permission]:
        if not (info is not None and self.enabled and info.user in self.users
                and name in self.users[info.user].roles):
            self.check_admin(info)
        r = self.roles.get(name)
        if r is None:
            raise _fail(errors.ROLE_NOT_FOUND)
        return list(r.keyPermission)

    # -- apply ---------------------------------------------------------------
    def apply(self, txn: Any, req: internal_pb2.InternalRequest) -> Any:
        """Apply one auth entry; returns the response message (header unset)."""
        which = req.WhichOneof("request")
        if which is None or not which.startswith("auth_"):
            raise ValueError(f"not an auth request: {which}")
        handler = getattr(self, f"_apply_{which}")
        return handler(txn, getattr(req, which))

    def _bump(self, txn: Any) -> None:
        self.revision += 1
        txn.put(_REVISION, _U64.pack(self.revision), db=self._auth_t)

    def _save_user(self, txn: Any, u: auth_pb2.User) -> None:
        self.users[u.name.decode()] = u
        txn.put(u.name, u.SerializeToString(), db=self._users_t)

    def _save_role(self, txn: Any, r: auth_pb2.Role) -> None:
        self.roles[r.name.decode()] = r
        txn.put(r.name, r.SerializeToString(), db=self._roles_t)

    def _apply_auth_enable(self, txn: Any, r: rpc_pb2.AuthEnableRequest) -> rpc_pb2.AuthEnableResponse:
        if not self.enabled:
            root = self.users.get(ROOT)
            if root is None:
                raise _fail(errors.ROOT_USER_NOT_EXIST)
            if ROOT not in root.roles:
                raise _fail(errors.ROOT_ROLE_NOT_EXIST)
            self.enabled = True
            txn.put(_ENABLED, b"\x01", db=self._auth_t)
            self._bump(txn)
        return rpc_pb2.AuthEnableResponse()

    def _apply_auth_disable(self, txn: Any, r: rpc_pb2.AuthDisableRequest) -> rpc_pb2.AuthDisableResponse:
        if self.enabled:
            self.enabled = False
            txn.put(_ENABLED, b"\x00", db=self._auth_t)
            self._bump(txn)
        return rpc_pb2.AuthDisableResponse()

    def _apply_auth_user_add(self, txn: Any, r: rpc_pb2.AuthUserAddRequest) -> rpc_pb2.AuthUserAddResponse:
        if not r.name:
            raise _fail(errors.USER_EMPTY)
        if r.name in self.users:
            raise _fail(errors.USER_ALREADY_EXIST)
        u = auth_pb2.User(name=r.name.encode(), password=r.hashedPassword.encode())
        if r.options.no_password:
            u.options.no_password = True
        self._save_user(txn, u)
        self._bump(txn)
        return rpc_pb2.AuthUserAddResponse()

    def _apply_auth_user_delete(self, txn: Any, r: rpc_pb2.AuthUserDeleteRequest) -> rpc_pb2.AuthUserDeleteResponse:
        if self.enabled and r.name == ROOT:
            raise _fail(errors.INVALID_AUTH_MGMT)
        if r.name not in self.users:
            raise _fail(errors.USER_NOT_FOUND)
        del self.users[r.name]
        txn.delete(r.name.encode(), db=self._users_t)
        self._bump(txn)
        return rpc_pb2.AuthUserDeleteResponse()

    def _apply_auth_user_change_password(
        self, txn: Any, r: rpc_pb2.AuthUserChangePasswordRequest
    ) -> rpc_pb2.AuthUserChangePasswordResponse:
        u = self.users.get(r.name)
        if u is None:
            raise _fail(errors.USER_NOT_FOUND)
        nu = auth_pb2.User()
        nu.CopyFrom(u)
        nu.password = r.hashedPassword.encode()
        self._save_user(txn, nu)
        self._bump(txn)
        return rpc_pb2.AuthUserChangePasswordResponse()

    def _apply_auth_user_grant_role(
        self, txn: Any, r: rpc_pb2.AuthUserGrantRoleRequest
    ) -> rpc_pb2.AuthUserGrantRoleResponse:
        u = self.users.get(r.user)
        if u is None:
            raise _fail(errors.USER_NOT_FOUND)
        if r.role != ROOT and r.role not in self.roles:
            raise _fail(errors.ROLE_NOT_FOUND)
        if r.role not in u.roles:
            roles = list(u.roles)
            insort(roles, r.role)
            nu = auth_pb2.User()
            nu.CopyFrom(u)
            del nu.roles[:]
            nu.roles.extend(roles)
            self._save_user(txn, nu)
            self._bump(txn)
        return rpc_pb2.AuthUserGrantRoleResponse()

    def _apply_auth_user_revoke_role(
        self, txn: Any, r: rpc_pb2.AuthUserRevokeRoleRequest
    ) -> rpc_pb2.AuthUserRevokeRoleResponse:
        if self.enabled and r.name == ROOT and r.role == ROOT:
            raise _fail(errors.INVALID_AUTH_MGMT)
        u = self.users.get(r.name)
        if u is None:
            raise _fail(errors.USER_NOT_FOUND)
        if r.role not in u.roles:
            raise _fail(errors.ROLE_NOT_GRANTED)
        nu = auth_pb2.User()
        nu.CopyFrom(u)
        nu.roles.remove(r.role)
        self._save_user(txn, nu)
        self._bump(txn)
        return rpc_pb2.AuthUserRevokeRoleResponse()

    def _apply_auth_role_add(self, txn: Any, r: rpc_pb2.AuthRoleAddRequest) -> rpc_pb2.AuthRoleAddResponse:
        if not r.name:
            raise _fail(errors.ROLE_EMPTY)
        if r.name in self.roles:
            raise _fail(errors.ROLE_ALREADY_EXIST)
        self._save_role(txn, auth_pb2.Role(name=r.name.encode()))
        self._bump(txn)
        return rpc_pb2.AuthRoleAddResponse()

    def _apply_auth_role_delete(self, txn: Any, r: rpc_pb2.AuthRoleDeleteRequest) -> rpc_pb2.AuthRoleDeleteResponse:
        if self.enabled and r.role == ROOT:
            raise _fail(errors.INVALID_AUTH_MGMT)
        if r.role not in self.roles:
            raise _fail(errors.ROLE_NOT_FOUND)
        del self.roles[r.role]
        txn.delete(r.role.encode(), db=self._roles_t)
        for u in list(self.users.values()):
            if r.role in u.roles:
                nu = auth_pb2.User()
                nu.CopyFrom(u)
                nu.roles.remove(r.role)
                self._save_user(txn, nu)
        self._bump(txn)
        return rpc_pb2.AuthRoleDeleteResponse()

    def _apply_auth_role_grant_permission(
        self, txn: Any, r: rpc_pb2.AuthRoleGrantPermissionRequest
    ) -> rpc_pb2.AuthRoleGrantPermissionResponse:
        role = self.roles.get(r.name)
        if role is None:
            raise _fail(errors.ROLE_NOT_FOUND)
        nr = auth_pb2.Role()
        nr.CopyFrom(role)
        for p in nr.keyPermission:
            if p.key == r.perm.key and p.range_end == r.perm.range_end:
                p.permType = r.perm.permType
                break
        else:
            perms = sorted([*nr.keyPermission, r.perm], key=lambda p: p.key)
            del nr.keyPermission[:]
            nr.keyPermission.extend(perms)
        self._save_role(txn, nr)
        self._bump(txn)
        return rpc_pb2.AuthRoleGrantPermissionResponse()

    def _apply_auth_role_revoke_permission(
        self, txn: Any, r: rpc_pb2.AuthRoleRevokePermissionRequest
    ) -> rpc_pb2.AuthRoleRevokePermissionResponse:
        role = self.roles.get(r.role)
        if role is None:
            raise _fail(errors.ROLE_NOT_FOUND)
        keep = [p for p in role.keyPermission if not (p.key == r.key and p.range_end == r.range_end)]
        if len(keep) == len(role.keyPermission):
            raise _fail(errors.PERMISSION_NOT_GRANTED)
        nr = auth_pb2.Role(name=role.name, keyPermission=keep)
        self._save_role(txn, nr)
        self._bump(txn)
        return rpc_pb2.AuthRoleRevokePermissionResponse()
