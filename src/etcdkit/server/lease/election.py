"""Leader election behind ``v3electionpb.Election`` (etcd's ``concurrency.Election``).

Rules (observable behaviour of etcd 3.4's election service):

* a candidate's key is ``name + "/" + <lease hex>`` holding its value, under its
  lease; the leader is the key under ``name + "/"`` with the lowest create
  revision; a :class:`LeaderKey` (name, key, create rev, lease) identifies a
  leadership and goes stale once that key is deleted or re-created;
* Campaign: one txn "if never created then put else get"; an existing key with
  another value is proclaimed to the new value; then wait until every key
  created before ours is deleted. Cancelled while waiting ⇒ resign. The
  response header is the txn's header;
* Proclaim: put the new value if the key still has our create revision, else
  ``election: not leader``; Resign: delete under the same compare (a stale key
  is not an error); Leader: the owner's KV or ``election: no leader``;
* Observe: the current leader (or, if none, the first key put under the
  prefix), then every change of that key until it is deleted, then again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc

from etcdkit.api import errors
from etcdkit.api.errors import WireError
from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2, v3election_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import KVServer, first_created, wait_deletes
from etcdkit.server.lease.mutex import lease_key
from etcdkit.server.lease.watching import Watches

__all__ = ["MISSING_LEADER_KEY", "campaign", "leader", "observe", "proclaim", "resign"]

MISSING_LEADER_KEY = WireError("MissingLeaderKey", grpc.StatusCode.UNKNOWN, '"leader" field must be provided')
"""Proclaim/Resign without a ``leader`` field (etcd's ``ErrMissingLeaderKey``)."""


def _same_create(key: bytes, rev: int) -> rpc_pb2.Compare:
    return rpc_pb2.Compare(key=key, target=rpc_pb2.Compare.CREATE, result=rpc_pb2.Compare.EQUAL, create_revision=rev)


async def campaign(
    server: KVServer, watches: Watches, name: bytes, lease: int, value: bytes, auth: Any = None
) -> v3election_pb2.CampaignResponse:
    """Become leader of ``name`` with ``lease`` (resolved, non-zero) and ``value``."""
    key = lease_key(name, lease)
    resp = await server.txn(
        rpc_pb2.TxnRequest(
            compare=[_same_create(key, 0)],
            success=[rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key, value=value, lease=lease))],
            failure=[rpc_pb2.RequestOp(request_range=rpc_pb2.RangeRequest(key=key))],
        ),
        auth,
    )
    leadership = v3election_pb2.LeaderKey(name=name, key=key, rev=resp.header.revision, lease=lease)
    if not resp.succeeded:
        existing = resp.responses[0].response_range.kvs[0]
        leadership.rev = existing.create_revision
        if existing.value != value:
            try:
                await proclaim(server, leadership, value, auth)
            except BaseException:
                await asyncio.shield(_resign_quietly(server, leadership, auth))
                raise
    try:
        await wait_deletes(server, watches, name + b"/", leadership.rev - 1, auth)
    except asyncio.CancelledError:
        await asyncio.shield(_resign_quietly(server, leadership, auth))
        raise
    return v3election_pb2.CampaignResponse(header=resp.header, leader=leadership)


async def proclaim(
    server: KVServer, leadership: v3election_pb2.LeaderKey, value: bytes, auth: Any = None
) -> rpc_pb2.ResponseHeader:
    """Set the leader's value, if ``leadership`` is still current."""
    resp = await server.txn(
        rpc_pb2.TxnRequest(
            compare=[_same_create(leadership.key, leadership.rev)],
            success=[
                rpc_pb2.RequestOp(
                    request_put=rpc_pb2.PutRequest(key=leadership.key, value=value, lease=leadership.lease)
                )
            ],
        ),
        auth,
    )
    if not resp.succeeded:
        raise EtcdServerError(errors.ELECTION_NOT_LEADER)
    return resp.header


async def resign(server: KVServer, leadership: v3election_pb2.LeaderKey, auth: Any = None) -> rpc_pb2.ResponseHeader:
    """Give up ``leadership``: delete its key if it is still that incarnation."""
    resp = await server.txn(
        rpc_pb2.TxnRequest(
            compare=[_same_create(leadership.key, leadership.rev)],
            success=[rpc_pb2.RequestOp(request_delete_range=rpc_pb2.DeleteRangeRequest(key=leadership.key))],
        ),
        auth,
    )
    return resp.header


async def _resign_quietly(server: KVServer, leadership: v3election_pb2.LeaderKey, auth: Any) -> None:
    with contextlib.suppress(Exception):  # best effort, as etcd ignores this error
        await resign(server, leadership, auth)


async def leader(server: KVServer, name: bytes, auth: Any = None) -> v3election_pb2.LeaderResponse:
    """The current leader's KV, or ``election: no leader``."""
    resp = await server.range(first_created(name + b"/"), auth)
    if not resp.kvs:
        raise EtcdServerError(errors.ELECTION_NO_LEADER)
    return v3election_pb2.LeaderResponse(header=resp.header, kv=resp.kvs[0])


async def observe(
    server: KVServer, watches: Watches, name: bytes, auth: Any = None
) -> AsyncIterator[v3election_pb2.LeaderResponse]:
    """Yield the leader, then every new value of the leader key; when it is
    deleted, the next leader (see the module docstring). Runs until cancelled."""
    prefix = name + b"/"
    while True:
        resp = await server.range(first_created(prefix), auth)
        if resp.kvs:
            kv, seen = resp.kvs[0], int(resp.header.revision)
            yield v3election_pb2.LeaderResponse(header=resp.header, kv=kv)
        else:
            found = await _first_put(watches, prefix, int(resp.header.revision))
            if found is None:
                continue  # watch cancelled (compaction): look again
            kv, seen = found, int(found.mod_revision)
            yield v3election_pb2.LeaderResponse(header=server.header(seen), kv=kv)
        async for update in _changes(server, watches, kv, seen):
            yield update


async def _first_put(watches: Watches, prefix: bytes, seen: int) -> kv_pb2.KeyValue | None:
    """The first key put under ``prefix`` after revision ``seen`` (what etcd's
    observer takes as the leader when there was none); None if the watch was
    cancelled."""
    watch = watches.open(prefix, prefix_end(prefix), seen + 1)
    try:
        while True:
            events = await watch.next()
            if events is None:
                return None
            for ev in events:
                if ev.type == kv_pb2.Event.PUT:
                    return ev.kv
    finally:
        watch.close()


async def _changes(
    server: KVServer, watches: Watches, kv: kv_pb2.KeyValue, seen: int
) -> AsyncIterator[v3election_pb2.LeaderResponse]:
    """Every new version of ``kv``'s key after revision ``seen``, until it is
    deleted (or the watch is cancelled: the caller then looks again)."""
    watch = watches.open(kv.key, b"", seen + 1)
    try:
        while True:
            events = await watch.next()
            if events is None:
                return
            for ev in events:
                if ev.type == kv_pb2.Event.DELETE:
                    return
                yield v3election_pb2.LeaderResponse(header=server.header(int(ev.kv.mod_revision)), kv=ev.kv)
    finally:
        watch.close()
