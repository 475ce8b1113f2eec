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

import grpc

from etcdkit.api import errors
from etcdkit.api.errors import WireError
from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2, v3election_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import KVServer, RevisionFeed, first_created, next_events, wait_deletes
from etcdkit.server.lease.mutex import lease_key

__all__ = ["MISSING_LEADER_KEY", "campaign", "leader", "observe", "proclaim", "resign"]

MISSING_LEADER_KEY = WireError("MissingLeaderKey", grpc.StatusCode.UNKNOWN, '"leader" field must be provided')
"""Proclaim/Resign without a ``leader`` field (etcd's ``ErrMissingLeaderKey``)."""


def _same_create(key: bytes, rev: int) -> rpc_pb2.Compare:
    return rpc_pb2.Compare(key=key, target=rpc_pb2.Compare.CREATE, result=rpc_pb2.Compare.EQUAL, create_revision=rev)


async def campaign(
    server: KVServer, feed: RevisionFeed, name: bytes, lease: int, value: bytes
) -> v3election_pb2.CampaignResponse:
    """Become leader of ``name`` with ``lease`` (resolved, non-zero) and ``value``."""
    key = lease_key(name, lease)
    resp = await server.txn(
        rpc_pb2.TxnRequest(
            compare=[_same_create(key, 0)],
            success=[rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key, value=value, lease=lease))],
            failure=[rpc_pb2.RequestOp(request_range=rpc_pb2.RangeRequest(key=key))],
        )
    )
    leadership = v3election_pb2.LeaderKey(name=name, key=key, rev=resp.header.revision, lease=lease)
    if not resp.succeeded:
        existing = resp.responses[0].response_range.kvs[0]
        leadership.rev = existing.create_revision
        if existing.value != value:
            try:
                await proclaim(server, leadership, value)
            except BaseException:
                await asyncio.shield(_resign_quietly(server, leadership))
                raise
    try:
        await wait_deletes(server, feed, name + b"/", leadership.rev - 1)
    except asyncio.CancelledError:
        await asyncio.shield(_resign_quietly(server, leadership))
        raise
    return v3election_pb2.CampaignResponse(header=resp.header, leader=leadership)


async def proclaim(server: KVServer, leadership: v3election_pb2.LeaderKey, value: bytes) -> rpc_pb2.ResponseHeader:
    """Set the leader's value, if ``leadership`` is still current."""
    resp = await server.txn(
        rpc_pb2.TxnRequest(
            compare=[_same_create(leadership.key, leadership.rev)],
            success=[
                rpc_pb2.RequestOp(
                    request_put=rpc_pb2.PutRequest(key=leadership.key, value=value, lease=leadership.lease)
                )
            ],
        )
    )
    if not resp.succeeded:
        raise EtcdServerError(errors.ELECTION_NOT_LEADER)
    return resp.header


async def resign(server: KVServer, leadership: v3election_pb2.LeaderKey) -> rpc_pb2.ResponseHeader:
    """Give up ``leadership``: delete its key if it is still that incarnation."""
    resp = await server.txn(
        rpc_pb2.TxnRequest(
            compare=[_same_create(leadership.key, leadership.rev)],
            success=[rpc_pb2.RequestOp(request_delete_range=rpc_pb2.DeleteRangeRequest(key=leadership.key))],
        )
    )
    return resp.header


async def _resign_quietly(server: KVServer, leadership: v3election_pb2.LeaderKey) -> None:
    with contextlib.suppress(Exception):  # best effort, as etcd ignores this error
        await resign(server, leadership)


async def leader(server: KVServer, name: bytes) -> v3election_pb2.LeaderResponse:
    """The current leader's KV, or ``election: no leader``."""
    resp = await server.range(first_created(name + b"/"))
    if not resp.kvs:
        raise EtcdServerError(errors.ELECTION_NO_LEADER)
    return v3election_pb2.LeaderResponse(header=resp.header, kv=resp.kvs[0])


async def observe(server: KVServer, feed: RevisionFeed, name: bytes) -> AsyncIterator[v3election_pb2.LeaderResponse]:
    """Yield the leader, then every new value of the leader key; when it is
    deleted, the next leader (see the module docstring). Runs until cancelled."""
    prefix = name + b"/"
    while True:
        resp = await server.range(first_created(prefix))
        if resp.kvs:
            kv, seen = resp.kvs[0], resp.header.revision
            yield v3election_pb2.LeaderResponse(header=resp.header, kv=kv)
        else:
            kv, seen = await _first_put(server, feed, prefix, resp.header.revision)
            yield v3election_pb2.LeaderResponse(header=server.header(seen), kv=kv)
        async for update in _changes(server, feed, kv, seen):
            yield update


async def _first_put(server: KVServer, feed: RevisionFeed, prefix: bytes, seen: int) -> tuple[kv_pb2.KeyValue, int]:
    """The first key put under ``prefix`` after revision ``seen`` (what etcd's
    observer takes as the leader when there was none), and its revision."""
    end = prefix_end(prefix)
    while True:
        events, covered = await next_events(server, feed, prefix, end, seen)
        if events is None:  # history compacted: take whatever leads now
            resp = await server.range(first_created(prefix))
            if resp.kvs:
                return resp.kvs[0], int(resp.header.revision)
        else:
            for ev in events:
                if ev.type == kv_pb2.Event.PUT:
                    return ev.kv, int(ev.kv.mod_revision)
        seen = covered


async def _changes(
    server: KVServer, feed: RevisionFeed, kv: kv_pb2.KeyValue, seen: int
) -> AsyncIterator[v3election_pb2.LeaderResponse]:
    """Every new version of ``kv``'s key after revision ``seen``, until it is deleted."""
    while True:
        events, covered = await next_events(server, feed, kv.key, b"", seen)
        if events is None:  # history compacted: compare with the current state
            resp = await server.range(rpc_pb2.RangeRequest(key=kv.key))
            if not resp.kvs or resp.kvs[0].create_revision != kv.create_revision:
                return
            if resp.kvs[0].mod_revision != kv.mod_revision:
                kv = resp.kvs[0]
                yield v3election_pb2.LeaderResponse(header=server.header(kv.mod_revision), kv=kv)
        else:
            for ev in events:
                if ev.type == kv_pb2.Event.DELETE:
                    return
                kv = ev.kv
                yield v3election_pb2.LeaderResponse(header=server.header(kv.mod_revision), kv=kv)
        seen = covered
