"""Request workloads over the raw etcd v3 stubs: put, range, txn (compare-and-put), lease keep-alive, lease grant.

Contract: a workload is built from a ``BenchConfig`` and a ``ChannelPool``;
``setup()`` prepares server state (range: writes every key of the key space
once; lease: grants one lease and opens one keep-alive stream per client),
``op(client_id)`` performs exactly one request and raises on failure (a gRPC
error, or a response that does not satisfy the request), ``counters()`` gives
workload-specific counts since the last ``reset()`` (txn: succeeded/failed),
``teardown()`` releases what ``setup()`` and the ops made (leases revoked,
streams closed; lease-grant revokes every lease it granted, outside the
measured phase).

Keys are ``prefix`` + a zero-padded decimal index, exactly ``key_size`` bytes,
drawn uniformly at random (seeded) from ``key_space`` indices.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Protocol

import grpc.aio

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.driver import ChannelPool, read_message

__all__ = ["KeyChooser", "LeaseGrantWorkload", "LeaseKeepAliveWorkload", "PutWorkload", "RangeWorkload",
           "TxnWorkload", "Workload", "make_key", "make_value", "request_workload"]

# A mod_revision no store reaches: ``mod < _NEVER`` holds for every key, present or not.
_NEVER = 2**62


class UnexpectedResponse(RuntimeError):
    """A response that does not satisfy its request (counted as an error)."""


def make_key(prefix: bytes, index: int, size: int) -> bytes:
    """``prefix`` + ``index`` zero-padded so the key is exactly ``size`` bytes."""
    digits = str(index).encode()
    pad = size - len(prefix) - len(digits)
    if pad < 0:
        raise ValueError(f"key size {size} too small for {prefix!r} + {index}")
    return prefix + b"0" * pad + digits


def make_value(size: int, seed: int = 1) -> bytes:
    """``size`` pseudo-random printable bytes (not compressible to nothing, reproducible)."""
    rng = random.Random(seed)
    return bytes(rng.randrange(0x21, 0x7F) for _ in range(size))


class KeyChooser:
    """Uniform, seeded choice of keys from the key space."""

    def __init__(self, cfg: BenchConfig) -> None:
        self._rng = random.Random(cfg.seed)
        self._prefix = cfg.prefix
        self._size = cfg.key_size
        self._space = cfg.key_space

    def next(self) -> bytes:
        return make_key(self._prefix, self._rng.randrange(self._space), self._size)

    def all(self) -> list[bytes]:
        return [make_key(self._prefix, i, self._size) for i in range(self._space)]


class Workload(Protocol):
    """One kind of request, issued by ``drive``."""

    async def setup(self) -> None: ...

    async def op(self, client_id: int) -> None: ...

    def counters(self) -> dict[str, float]: ...

    def reset(self) -> None: ...

    async def teardown(self) -> None: ...


class _NoHooks:
    """The optional ``Workload`` hooks, doing nothing (override what a workload needs)."""

    async def setup(self) -> None:
        return None

    def counters(self) -> dict[str, float]:
        return {}

    def reset(self) -> None:
        return None

    async def teardown(self) -> None:
        return None


class _KVBase(_NoHooks):
    def __init__(self, cfg: BenchConfig, pool: ChannelPool) -> None:
        self.cfg = cfg
        self.keys = KeyChooser(cfg)
        self.value = make_value(cfg.val_size, cfg.seed)
        self.stubs = [rpc_pb2_grpc.KVStub(ch) for ch in pool.channels]
        self.timeout = cfg.timeout

    def stub(self, client_id: int) -> rpc_pb2_grpc.KVAsyncStub:
        return self.stubs[client_id % len(self.stubs)]


class PutWorkload(_KVBase):
    """``Put(key, value)`` on a random key."""

    async def op(self, client_id: int) -> None:
        await self.stub(client_id).Put(rpc_pb2.PutRequest(key=self.keys.next(), value=self.value), timeout=self.timeout)


class RangeWorkload(_KVBase):
    """``Range(key)`` of one random existing key; serializable or linearizable per config."""

    async def setup(self) -> None:
        keys = self.keys.all()
        stub = self.stub(0)
        sem = asyncio.Semaphore(64)

        async def put(k: bytes) -> None:
            async with sem:
                await stub.Put(rpc_pb2.PutRequest(key=k, value=self.value), timeout=self.timeout)

        await asyncio.gather(*(put(k) for k in keys))

    async def op(self, client_id: int) -> None:
        resp = await self.stub(client_id).Range(
            rpc_pb2.RangeRequest(key=self.keys.next(), serializable=self.cfg.serializable), timeout=self.timeout
        )
        if resp.count != 1:
            raise UnexpectedResponse(f"range of a preloaded key returned count {resp.count}")


class TxnWorkload(_KVBase):
    """Compare-and-put: ``If(mod_revision(k) < 2^62) Then Put(k, v)``; the compare always holds."""

    def __init__(self, cfg: BenchConfig, pool: ChannelPool) -> None:
        super().__init__(cfg, pool)
        self.succeeded = 0
        self.failed = 0

    def counters(self) -> dict[str, float]:
        return {"txn_succeeded": float(self.succeeded), "txn_failed": float(self.failed)}

    def reset(self) -> None:
        self.succeeded = self.failed = 0

    async def op(self, client_id: int) -> None:
        k = self.keys.next()
        req = rpc_pb2.TxnRequest(
            compare=[
                rpc_pb2.Compare(
                    key=k, target=rpc_pb2.Compare.MOD, result=rpc_pb2.Compare.LESS, mod_revision=_NEVER
                )
            ],
            success=[rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=k, value=self.value))],
        )
        resp = await self.stub(client_id).Txn(req, timeout=self.timeout)
        if resp.succeeded:
            self.succeeded += 1
        else:
            self.failed += 1


class LeaseKeepAliveWorkload:
    """One lease and one ``LeaseKeepAlive`` stream per client; an op is one request/response round trip."""

    def __init__(self, cfg: BenchConfig, pool: ChannelPool) -> None:
        self.cfg = cfg
        self.pool = pool
        self.lease_ids: list[int] = []
        self.calls: list[grpc.aio.StreamStreamCall[rpc_pb2.LeaseKeepAliveRequest, rpc_pb2.LeaseKeepAliveResponse]]
        self.calls = []

    def _stub(self, client_id: int) -> rpc_pb2_grpc.LeaseAsyncStub:
        return rpc_pb2_grpc.LeaseStub(self.pool.for_client(client_id))

    async def setup(self) -> None:
        for cid in range(self.cfg.clients):
            resp = await self._stub(cid).LeaseGrant(
                rpc_pb2.LeaseGrantRequest(TTL=self.cfg.lease_ttl), timeout=self.cfg.timeout
            )
            self.lease_ids.append(resp.ID)
            self.calls.append(self._stub(cid).LeaseKeepAlive(None))

    def counters(self) -> dict[str, float]:
        return {}

    def reset(self) -> None:
        return None

    async def op(self, client_id: int) -> None:
        call = self.calls[client_id]
        lease_id = self.lease_ids[client_id]
        async with asyncio.timeout(self.cfg.timeout):
            await call.write(rpc_pb2.LeaseKeepAliveRequest(ID=lease_id))
            resp = await read_message(call)
        if resp is None:
            raise UnexpectedResponse("keep-alive stream ended")
        got_id, ttl = resp.ID, resp.TTL
        if got_id != lease_id or ttl <= 0:
            raise UnexpectedResponse(f"keep-alive of lease {lease_id} answered ID {got_id} TTL {ttl}")

    async def teardown(self) -> None:
        for call in self.calls:
            call.cancel()
        for cid, lease_id in enumerate(self.lease_ids):
            with contextlib.suppress(grpc.aio.AioRpcError):  # best effort: the lease expires after its TTL
                await self._stub(cid).LeaseRevoke(rpc_pb2.LeaseRevokeRequest(ID=lease_id), timeout=self.cfg.timeout)
        self.calls.clear()
        self.lease_ids.clear()


class LeaseGrantWorkload(_NoHooks):
    """``LeaseGrant(TTL=lease_ttl)`` with a server-chosen id; the leases are revoked at teardown."""

    def __init__(self, cfg: BenchConfig, pool: ChannelPool) -> None:
        self.cfg = cfg
        self.stubs = [rpc_pb2_grpc.LeaseStub(ch) for ch in pool.channels]
        self.granted: list[tuple[int, int]] = []  # (client id, lease id)

    async def op(self, client_id: int) -> None:
        stub = self.stubs[client_id % len(self.stubs)]
        resp = await stub.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=self.cfg.lease_ttl), timeout=self.cfg.timeout)
        granted_ttl = resp.TTL
        if resp.ID == 0 or resp.error or granted_ttl < self.cfg.lease_ttl:
            raise UnexpectedResponse(f"grant answered ID {resp.ID} TTL {resp.TTL} error {resp.error!r}")
        self.granted.append((client_id, resp.ID))

    async def teardown(self) -> None:
        sem = asyncio.Semaphore(64)

        async def revoke(cid: int, lease_id: int) -> None:
            async with sem:
                with contextlib.suppress(grpc.aio.AioRpcError):  # best effort: the lease expires after its TTL
                    await self.stubs[cid % len(self.stubs)].LeaseRevoke(
                        rpc_pb2.LeaseRevokeRequest(ID=lease_id), timeout=self.cfg.timeout
                    )

        granted, self.granted = self.granted, []
        await asyncio.gather(*(revoke(cid, lid) for cid, lid in granted))


def request_workload(cfg: BenchConfig, pool: ChannelPool) -> Workload:
    """The request/response workload named by ``cfg.workload`` (not ``watch``: see ``fanout``)."""
    if cfg.workload == "put":
        return PutWorkload(cfg, pool)
    if cfg.workload == "range":
        return RangeWorkload(cfg, pool)
    if cfg.workload == "txn":
        return TxnWorkload(cfg, pool)
    if cfg.workload == "lease":
        return LeaseKeepAliveWorkload(cfg, pool)
    if cfg.workload == "lease-grant":
        return LeaseGrantWorkload(cfg, pool)
    raise ValueError(f"not a request workload: {cfg.workload}")
