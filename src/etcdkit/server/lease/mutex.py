"""The distributed mutex behind ``v3lockpb.Lock`` (etcd's ``concurrency.Mutex``).

Rules (observable behaviour of etcd 3.4's lock service):

* the lock key is ``name + "/" + <lease id in lowercase hex>`` (a negative id
  prints as ``-<hex>``, like Go's ``%x``), put with an empty value under the lease;
* acquisition is one txn: if the key has never been created, put it and read
  the owner (the key under the prefix with the lowest create revision),
  otherwise read the key and the owner; our revision is the txn revision or the
  existing key's create revision;
* if we are not the owner, wait until every key under the prefix with a smaller
  create revision is deleted, then read our key again: if it is gone the lease
  ended while we waited and the lock was *not* acquired (``mutex: session is
  expired``, the fix for Jepsen's etcd#11456); if the wait fails or is cancelled,
  our key is deleted;
* lease 0 means "a new lease of ``SESSION_TTL`` seconds" (etcd creates a session
  that it never keeps alive, so the lock goes when that lease expires);
* unlock is a plain delete of the key.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import grpc

from etcdkit.api.errors import WireError
from etcdkit.api.pb import rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import KVServer, first_created, wait_deletes
from etcdkit.server.lease.watching import Watches

__all__ = ["SESSION_EXPIRED", "SESSION_TTL", "Acquired", "acquire", "lease_key", "release", "session_lease"]

SESSION_TTL = 60
"""TTL of the lease created when a Lock/Campaign request carries lease 0 (etcd's default session TTL)."""

SESSION_EXPIRED = WireError("MutexSessionExpired", grpc.StatusCode.UNKNOWN, "mutex: session is expired")
"""Raised (as ``EtcdServerError``) when the lease ended while waiting for the lock."""


def lease_key(name: bytes, lease: int) -> bytes:
    """``name/<lease hex>``: the key of lease ``lease``'s claim on ``name``."""
    return name + b"/" + format(lease, "x").encode()


async def session_lease(server: KVServer, lease: int) -> int:
    """``lease`` itself, or a fresh ``SESSION_TTL`` lease when ``lease`` is 0."""
    if lease != 0:
        return lease
    resp = await server.lease_grant(rpc_pb2.LeaseGrantRequest(TTL=SESSION_TTL))
    return int(resp.ID)


@dataclass(frozen=True, slots=True)
class Acquired:
    """A held lock: the header to answer with and the key to unlock with."""

    header: rpc_pb2.ResponseHeader
    key: bytes


async def acquire(server: KVServer, watches: Watches, name: bytes, lease: int, auth: Any = None) -> Acquired:
    """Acquire the lock ``name`` for ``lease`` (already resolved, non-zero), with
    the permissions of ``auth`` (the caller, see ``KVServer.who``).

    Raises ``EtcdServerError`` (lease not found, ``SESSION_EXPIRED``, ...). On
    cancellation while waiting, deletes our key before re-raising.
    """
    prefix = name + b"/"
    key = lease_key(name, lease)
    txn = rpc_pb2.TxnRequest(
        compare=[
            rpc_pb2.Compare(key=key, target=rpc_pb2.Compare.CREATE, result=rpc_pb2.Compare.EQUAL, create_revision=0)
        ],
        success=[
            rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key, value=b"", lease=lease)),
            rpc_pb2.RequestOp(request_range=first_created(prefix)),
        ],
        failure=[
            rpc_pb2.RequestOp(request_range=rpc_pb2.RangeRequest(key=key)),
            rpc_pb2.RequestOp(request_range=first_created(prefix)),
        ],
    )
    resp = await server.txn(txn, auth)
    my_rev = resp.header.revision if resp.succeeded else resp.responses[0].response_range.kvs[0].create_revision
    owner = resp.responses[1].response_range.kvs
    if not owner or owner[0].create_revision == my_rev:
        return Acquired(resp.header, key)
    try:
        await wait_deletes(server, watches, prefix, my_rev - 1, auth)
        got = await server.range(rpc_pb2.RangeRequest(key=key), auth)
    except BaseException:
        # The caller gave up (cancelled, deadline) or the store failed: withdraw
        # our claim so the waiters behind us are not blocked by it.
        await asyncio.shield(_release(server, key, auth))
        raise
    if not got.kvs:
        raise EtcdServerError(SESSION_EXPIRED)
    return Acquired(got.header, key)


async def release(server: KVServer, key: bytes, auth: Any = None) -> rpc_pb2.ResponseHeader:
    """Unlock: delete ``key`` (with ``auth``'s permissions); return the delete's header."""
    resp = await server.delete_range(rpc_pb2.DeleteRangeRequest(key=key), auth)
    return resp.header


async def _release(server: KVServer, key: bytes, auth: Any) -> None:
    with contextlib.suppress(Exception):  # best effort, as in etcd (Unlock error ignored)
        await release(server, key, auth)
