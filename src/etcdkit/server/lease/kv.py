"""What the Lock and Election recipes need from the server.

The recipes are written against :class:`KVServer` (a subset of ``EtcdServer``:
the same calls a Go client makes, minus the network) and wait with watches
(``etcdkit.server.lease.watching``). :class:`RevisionFeed` lets a coroutine wait
until the store revision moves, for builds without a watch hub.
:func:`wait_deletes` is etcd's ``waitDeletes``: wait until every key under a
prefix created at or before a revision is deleted, one watch per key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.lease.lessor import Lessor

if TYPE_CHECKING:
    from etcdkit.server.lease.watching import Watches

__all__ = [
    "AuthChecker",
    "KVServer",
    "RevisionFeed",
    "first_created",
    "last_created_before",
    "wait_delete",
    "wait_deletes",
]


class AuthChecker(Protocol):
    """The slice of ``etcdkit.server.auth.AuthStore`` used here."""

    def check_range(self, info: Any, key: bytes, range_end: bytes, write: bool) -> None: ...


class KVServer(Protocol):
    """The slice of ``EtcdServer`` the lease, lock and election services use.

    ``who(context)`` is the caller's identity (None when auth is off); passing
    it as ``auth`` makes a call subject to the caller's permissions, as etcd's
    lock and election servers act with the caller's token.
    """

    lessor: Lessor

    @property
    def auth(self) -> AuthChecker: ...

    def header(self, revision: int | None = None) -> rpc_pb2.ResponseHeader: ...
    def current_revision(self) -> int: ...
    def who(self, context: Any) -> Any: ...
    async def range(self, req: rpc_pb2.RangeRequest, auth: Any = None) -> rpc_pb2.RangeResponse: ...
    async def put(self, req: rpc_pb2.PutRequest, auth: Any = None) -> rpc_pb2.PutResponse: ...
    async def delete_range(self, req: rpc_pb2.DeleteRangeRequest, auth: Any = None) -> rpc_pb2.DeleteRangeResponse: ...
    async def txn(self, req: rpc_pb2.TxnRequest, auth: Any = None) -> rpc_pb2.TxnResponse: ...
    async def lease_grant(self, req: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse: ...
    async def lease_revoke(self, req: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse: ...
    def read_events(
        self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[kv_pb2.Event]: ...


class RevisionFeed:
    """Lets coroutines wait until the store revision passes a value.

    One poller task per feed reads ``current_revision`` every ``poll_interval``
    seconds, and only while someone waits; when the revision moved it wakes
    every waiter (they re-check). :meth:`notify` wakes them at once (anyone who
    knows a write was applied may call it). Owned by the event loop thread.

    Invariant: the poller's ``_last`` is never above a revision a parked waiter
    has seen, so no change a waiter waits for can go unannounced.
    """

    def __init__(self, current_revision: Callable[[], int], *, poll_interval: float = 0.005) -> None:
        self._current_revision = current_revision
        self._poll_interval = poll_interval
        self._changed = asyncio.Event()
        self._waiters = 0
        self._last = 0
        self._poller: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Wake every waiter now (they re-check the revision)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_past(self, revision: int) -> int:
        """Return the current revision once it is greater than ``revision``.

        Unbounded in time by design (like a watch); callers bound it with
        cancellation (the RPC's deadline or the client going away).
        """
        while True:
            current = self._current_revision()
            if current > revision:
                return current
            changed = self._changed
            if self._poller is None:
                self._last = current
                self._poller = asyncio.get_running_loop().create_task(self._poll(), name="lease-revision-feed")
            else:
                self._last = min(self._last, current)
            self._waiters += 1
            try:
                await changed.wait()
            finally:
                self._waiters -= 1

    async def _poll(self) -> None:
        try:
            while self._waiters > 0:
                await asyncio.sleep(self._poll_interval)
                current = self._current_revision()
                if current != self._last:
                    self._last = current
                    self.notify()
        finally:
            self._poller = None


def first_created(prefix: bytes) -> rpc_pb2.RangeRequest:
    """Get the key under ``prefix`` with the lowest create revision (the owner)."""
    return rpc_pb2.RangeRequest(
        key=prefix,
        range_end=prefix_end(prefix),
        limit=1,
        sort_order=rpc_pb2.RangeRequest.ASCEND,
        sort_target=rpc_pb2.RangeRequest.CREATE,
    )


def last_created_before(prefix: bytes, max_create_revision: int) -> rpc_pb2.RangeRequest:
    """Get the key under ``prefix`` created last at or before ``max_create_revision``."""
    return rpc_pb2.RangeRequest(
        key=prefix,
        range_end=prefix_end(prefix),
        limit=1,
        sort_order=rpc_pb2.RangeRequest.DESCEND,
        sort_target=rpc_pb2.RangeRequest.CREATE,
        max_create_revision=max_create_revision,
    )


async def wait_delete(watches: Watches, key: bytes, seen: int) -> None:
    """Wait until ``key`` (live at revision ``seen``) is deleted after ``seen``
    (etcd's ``waitDelete``). A cancelled watch (compaction) returns early: the
    caller re-reads the state."""
    watch = watches.open(key, b"", seen + 1)
    try:
        while True:
            events = await watch.next()
            if events is None or any(ev.type == kv_pb2.Event.DELETE for ev in events):
                return
    finally:
        watch.close()


async def wait_deletes(
    server: KVServer, watches: Watches, prefix: bytes, max_create_revision: int, auth: Any = None
) -> rpc_pb2.ResponseHeader:
    """etcd's ``waitDeletes``: wait until no key under ``prefix`` has a create
    revision <= ``max_create_revision``; return the header of the final read."""
    while True:
        resp = await server.range(last_created_before(prefix, max_create_revision), auth)
        if not resp.kvs:
            return resp.header
        await wait_delete(watches, resp.kvs[0].key, resp.header.revision)
