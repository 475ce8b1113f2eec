"""What the Lock and Election recipes need from the server, and how they wait.

The recipes are written against :class:`KVServer` (a subset of ``EtcdServer``:
the same calls a Go client makes, minus the network). Waiting for "every key
under a prefix created before mine is deleted" is etcd's ``waitDeletes``; etcd
implements it with a watch per key, we implement the same observable rule with
:class:`RevisionFeed`: a waiter re-reads the key whenever the store revision may
have moved; where every intermediate change matters (Observe),
:func:`next_events` reads the revisions passed since from the store's history,
which is what a watch would have delivered. The feed polls ``current_revision()`` with a short, bounded backoff
and can be woken early by :meth:`RevisionFeed.notify` (the server, or anyone who
knows a write was applied, may call it). A deletion is recognised by the key
being absent or re-created (different ``create_revision``), so a delete that is
followed by a re-create between two polls is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.lessor import Lessor

__all__ = [
    "KVServer",
    "RevisionFeed",
    "first_created",
    "last_created_before",
    "next_events",
    "wait_deletes",
]


class KVServer(Protocol):
    """The slice of ``EtcdServer`` the lease, lock and election services use."""

    lessor: Lessor

    def header(self, revision: int | None = None) -> rpc_pb2.ResponseHeader: ...
    def current_revision(self) -> int: ...
    async def range(self, req: rpc_pb2.RangeRequest) -> rpc_pb2.RangeResponse: ...
    async def put(self, req: rpc_pb2.PutRequest) -> rpc_pb2.PutResponse: ...
    async def delete_range(self, req: rpc_pb2.DeleteRangeRequest) -> rpc_pb2.DeleteRangeResponse: ...
    async def txn(self, req: rpc_pb2.TxnRequest) -> rpc_pb2.TxnResponse: ...
    async def lease_grant(self, req: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse: ...
    async def lease_revoke(self, req: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse: ...
    def read_events(
        self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[kv_pb2.Event]: ...


class RevisionFeed:
    """Lets coroutines wait until the store revision passes a value.

    Polls ``current_revision`` every ``min_poll`` seconds at first, backing off
    to ``max_poll``; :meth:`notify` wakes every waiter at once. Owned by the
    event loop thread (no locks).
    """

    def __init__(self, current_revision: Callable[[], int], *, min_poll: float = 0.002, max_poll: float = 0.02) -> None:
        self._current_revision = current_revision
        self._min_poll = min_poll
        self._max_poll = max_poll
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Wake every waiter now (they re-check the revision)."""
        self._wake.set()
        self._wake = asyncio.Event()

    async def wait_past(self, revision: int) -> int:
        """Return the current revision once it is greater than ``revision``.

        Unbounded in time by design (like a watch); callers bound it with
        cancellation (the RPC's deadline or the client going away).
        """
        delay = self._min_poll
        while True:
            current = self._current_revision()
            if current > revision:
                return current
            wake = self._wake
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
            delay = min(self._max_poll, delay * 2)


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


async def wait_delete(server: KVServer, feed: RevisionFeed, key: bytes, create_revision: int, seen: int) -> None:
    """Wait until ``key`` (the incarnation created at ``create_revision``, still
    live at revision ``seen``) has been deleted."""
    while True:
        seen = await feed.wait_past(seen)
        resp = await server.range(rpc_pb2.RangeRequest(key=key))
        if not resp.kvs or resp.kvs[0].create_revision != create_revision:
            return
        seen = resp.header.revision


async def wait_deletes(
    server: KVServer, feed: RevisionFeed, prefix: bytes, max_create_revision: int
) -> rpc_pb2.ResponseHeader:
    """etcd's ``waitDeletes``: wait until no key under ``prefix`` has a create
    revision <= ``max_create_revision``; return the header of the final read."""
    while True:
        resp = await server.range(last_created_before(prefix, max_create_revision))
        if not resp.kvs:
            return resp.header
        kv = resp.kvs[0]
        await wait_delete(server, feed, kv.key, kv.create_revision, resp.header.revision)


EVENT_BATCH = 1000
"""Most history events :func:`next_events` reads at once (whole revisions)."""


async def next_events(
    server: KVServer, feed: RevisionFeed, key: bytes, range_end: bytes, seen: int
) -> tuple[list[kv_pb2.Event] | None, int]:
    """Wait until the store passes revision ``seen``; return the events on the
    range ``(key, range_end)`` after ``seen`` and the revision now covered.

    Returns ``(None, current)`` when that history is compacted away (the caller
    falls back to reading the current state), like a watch cancelled by
    compaction that the Go client would restart.
    """
    current = await feed.wait_past(seen)
    try:
        events = server.read_events(key, range_end, seen + 1, current, EVENT_BATCH)
    except EtcdServerError:
        return None, current
    if len(events) >= EVENT_BATCH:
        # partial: only whole revisions were returned; resume after the last one
        return events, int(events[-1].kv.mod_revision)
    return events, current
