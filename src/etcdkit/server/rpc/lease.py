"""The ``etcdserverpb.Lease`` servicer.

Grant and Revoke go through the server's log (``server.lease_grant`` /
``server.lease_revoke``); KeepAlive renews in the lessor directly (renewals are
not logged, as in etcd); TimeToLive and Leases read the lessor. Wire behaviour
mirrored from etcd's ``v3rpc/lease.go``: an unknown lease answers KeepAlive with
``TTL = 0`` and TimeToLive with ``TTL = -1`` (not errors), and a KeepAlive
response's header is taken *before* the renew, so its revision never runs ahead
of the point where the lease was known alive.

KeepAlive answers are pre-encoded bytes (the handler is registered with an
identity response serializer, see ``register``): the header's bytes are
cached per store revision and each answer is that plus two varints, the same
bytes ``LeaseKeepAliveResponse.SerializeToString`` gives. Renewals never touch
the log or the disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease.kv import KVServer
from etcdkit.server.rpc.util import STREAM_UNMARSHAL_PREFIX, Malformed, add_servicer, mapped
from etcdkit.server.watch.codec import varint  # protobuf varint, int64 two's complement

__all__ = ["LeaseServicer", "encode_keepalive_response", "register"]



def encode_keepalive_response(header: bytes, lease_id: int, ttl: int) -> bytes:
    """``LeaseKeepAliveResponse(header, ID, TTL)`` as protobuf bytes, given the
    header's own serialized bytes (the header is always present, as the server
    always sets it; fields in number order, zero ID/TTL omitted, negative int64
    as 10-byte two's complement: what protobuf emits)."""
    out = b"\x0a" + varint(len(header)) + header
    if lease_id:
        out += b"\x10" + varint(lease_id)
    if ttl:
        out += b"\x18" + varint(ttl)
    return out


def _identity(data: bytes) -> bytes:
    return data


Ctx = grpc.aio.ServicerContext[Any, Any]


def register(server: KVServer, grpc_server: grpc.aio.Server) -> None:
    """Register the Lease, Lock and Election services of ``server`` (called by
    the member at start). Lock and Election wait with watchers on the server's
    watch hub when it has one, else by polling the store's history."""
    from etcdkit.api.pb import v3election_pb2_grpc, v3lock_pb2_grpc
    from etcdkit.server.lease.watching import HubWatches, PollingWatches, Watches
    from etcdkit.server.rpc.election import ElectionServicer
    from etcdkit.server.rpc.lock import LockServicer

    hub = getattr(server, "hub", None)
    watches: Watches = HubWatches(hub) if hub is not None else PollingWatches(server)
    # LeaseKeepAlive writes pre-encoded bytes: identity response serializer.
    add_servicer(
        rpc_pb2_grpc.add_LeaseServicer_to_server, LeaseServicer(server), grpc_server, {"LeaseKeepAlive": _identity}
    )
    add_servicer(v3lock_pb2_grpc.add_LockServicer_to_server, LockServicer(server, watches), grpc_server)
    add_servicer(v3election_pb2_grpc.add_ElectionServicer_to_server, ElectionServicer(server, watches), grpc_server)


class LeaseServicer(rpc_pb2_grpc.LeaseServicer):
    """Serves Lease RPCs for ``server`` (an ``EtcdServer``)."""

    def __init__(self, server: KVServer) -> None:
        self._server = server
        self._header_rev = -1  # store revision the cached header bytes were taken at
        self._header = b""

    def _header_bytes(self) -> bytes:
        """The serialized response header at the current revision (cached per revision)."""
        rev = self._server.current_revision()
        if rev != self._header_rev:
            self._header = self._server.header(rev).SerializeToString()
            self._header_rev = rev
        return self._header

    @mapped
    async def LeaseGrant(self, request: rpc_pb2.LeaseGrantRequest, context: Ctx) -> rpc_pb2.LeaseGrantResponse:
        return await self._server.lease_grant(request)

    @mapped
    async def LeaseRevoke(self, request: rpc_pb2.LeaseRevokeRequest, context: Ctx) -> rpc_pb2.LeaseRevokeResponse:
        # etcd (authApplierV3.checkLeasePuts): revoking needs write permission on
        # every key attached to the lease; a lease without keys needs none.
        caller = self._server.who(context)
        lease = self._server.lessor.lookup(request.ID)
        if caller is not None and lease is not None:
            for key in sorted(lease.keys):
                self._server.auth.check_range(caller, key, b"", write=True)
        return await self._server.lease_revoke(request)

    async def LeaseKeepAlive(  # type: ignore[override]  # read/write style returns None
        self,
        request_iterator: AsyncIterator[rpc_pb2.LeaseKeepAliveRequest],
        context: Ctx,
    ) -> None:
        # read()/write() on the context: measurably cheaper per message in
        # grpc.aio than an async-generator handler; answers are pre-encoded bytes.
        lessor = self._server.lessor
        eof = grpc.aio.EOF  # type: ignore[attr-defined]
        read, write = context.read, context.write
        while True:
            req = await read()
            if req is eof:
                return
            if isinstance(req, Malformed):  # ends this stream only, as grpc-go's RecvMsg error does
                await context.abort(grpc.StatusCode.INTERNAL, STREAM_UNMARSHAL_PREFIX + req.reason)
            header = self._header_bytes()  # before the renew (see module docstring)
            lease_id = req.ID
            try:
                ttl = lessor.renew(lease_id)
            except EtcdServerError:  # LEASE_NOT_FOUND: unknown or expired
                ttl = 0
            await write(encode_keepalive_response(header, lease_id, ttl))

    async def LeaseTimeToLive(
        self, request: rpc_pb2.LeaseTimeToLiveRequest, context: Ctx
    ) -> rpc_pb2.LeaseTimeToLiveResponse:
        header = self._server.header()
        lease = self._server.lessor.lookup(request.ID)
        if lease is None:
            return rpc_pb2.LeaseTimeToLiveResponse(header=header, ID=request.ID, TTL=-1)
        # etcd truncates the remaining duration to whole seconds; an expired lease
        # awaiting its revoke reports 0, never -1 (which means "not found").
        remaining = max(0, int(lease.remaining()))
        keys = sorted(lease.keys) if request.keys else []
        return rpc_pb2.LeaseTimeToLiveResponse(
            header=header, ID=request.ID, TTL=remaining, grantedTTL=lease.ttl, keys=keys
        )

    async def LeaseLeases(self, request: rpc_pb2.LeaseLeasesRequest, context: Ctx) -> rpc_pb2.LeaseLeasesResponse:
        return rpc_pb2.LeaseLeasesResponse(
            header=self._server.header(),
            leases=[rpc_pb2.LeaseStatus(ID=lease.id) for lease in self._server.lessor.leases()],
        )
