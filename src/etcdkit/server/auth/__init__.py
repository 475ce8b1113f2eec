"""Authentication and role-based access control with etcd's semantics.

* ``store.AuthStore``: users (bcrypt password or no-password), roles with key
  range permissions, the enabled flag and the auth revision, persisted in the
  LMDB tables ``authUsers`` / ``authRoles`` / ``auth`` in etcd's own encoding
  (``authpb.User`` / ``authpb.Role``), changed only by applying log entries;
* ``tokens.SimpleTokens``: etcd's "simple" tokens (random letters + "." +
  index) with a TTL refreshed on use;
* ``ranges``: whether a user's permissions cover a requested key range.

Contract: when auth is disabled every check passes; when enabled a request
without a token fails ``user name is empty``, a bad token ``invalid auth
token``, a missing permission ``permission denied``; users with the ``root``
role may do anything.
"""

from etcdkit.server.auth.store import AuthInfo, AuthStore
from etcdkit.server.auth.tokens import SimpleTokens

__all__ = ["AuthInfo", "AuthStore", "SimpleTokens"]
