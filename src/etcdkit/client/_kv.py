"""KV API of ``AsyncClient``: get, put, delete, txn, compact."""

from __future__ import annotations

from collections.abc import Awaitable

from etcdkit.api.pb import rpc_pb2
from etcdkit.client._base import ClientBase
from etcdkit.client._transport import Metadata, Stubs
from etcdkit.client.txn import Delete, Get, Txn, put_request, range_end_for, range_request
from etcdkit.client.types import DeleteResponse, GetResponse, PutResponse, SortOrder, SortTarget, TxnResponse

__all__ = ["KVMixin"]


class KVMixin(ClientBase):
    """KV calls. Reads retry on other endpoints; writes only when provably unsent."""

    async def get(
        self,
        key: bytes,
        *,
        range_end: bytes | None = None,
        prefix: bool = False,
        from_key: bool = False,
        limit: int = 0,
        revision: int = 0,
        sort_order: SortOrder = SortOrder.NONE,
        sort_target: SortTarget = SortTarget.KEY,
        serializable: bool = False,
        keys_only: bool = False,
        count_only: bool = False,
        min_mod_revision: int = 0,
        max_mod_revision: int = 0,
        min_create_revision: int = 0,
        max_create_revision: int = 0,
        timeout: float | None = None,
    ) -> GetResponse:
        """Range over ``key`` (or ``[key, range_end)``, a prefix, or every key from ``key``)."""
        req = range_request(
            self._ns,
            key,
            range_end_for(key, range_end, prefix, from_key),
            limit,
            revision,
            sort_order,
            sort_target,
            serializable,
            keys_only,
            count_only,
            min_mod_revision,
            max_mod_revision,
            min_create_revision,
            max_create_revision,
        )

        def fn(s: Stubs, t: float | None, md: Metadata) -> Awaitable[rpc_pb2.RangeResponse]:
            return s.kv.Range(req, timeout=t, metadata=md)

        # A read at a fixed revision cannot go backwards; only "latest" reads use the floor.
        resp = await self._transport.call(fn, idempotent=True, revision_of=None if revision else _rev, timeout=timeout)
        return self._ns.get(resp)

    async def get_op(self, op: Get, *, timeout: float | None = None) -> GetResponse:
        """Run one ``Get`` (the request object of ``get``'s keywords)."""
        req = op.to_pb(self._ns)

        def fn(s: Stubs, t: float | None, md: Metadata) -> Awaitable[rpc_pb2.RangeResponse]:
            return s.kv.Range(req, timeout=t, metadata=md)

        check = _rev if op.revision == 0 else None
        resp = await self._transport.call(fn, idempotent=True, revision_of=check, timeout=timeout)
        return self._ns.get(resp)

    async def put(
        self,
        key: bytes,
        value: bytes = b"",
        *,
        lease: int = 0,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
        timeout: float | None = None,
    ) -> PutResponse:
        """Put ``value`` at ``key``. ``prev_kv=True`` returns the previous key-value."""
        req = put_request(self._ns, key, value, lease, prev_kv, ignore_value, ignore_lease)

        def fn(s: Stubs, t: float | None, md: Metadata) -> Awaitable[rpc_pb2.PutResponse]:
            return s.kv.Put(req, timeout=t, metadata=md)

        resp = await self._transport.call(fn, idempotent=False, revision_of=_rev, timeout=timeout)
        return self._ns.put(resp)

    async def delete(
        self,
        key: bytes,
        *,
        range_end: bytes | None = None,
        prefix: bool = False,
        from_key: bool = False,
        prev_kv: bool = False,
        timeout: float | None = None,
    ) -> DeleteResponse:
        """Delete ``key`` (or a range). Returns how many keys were deleted."""
        req = Delete(key, range_end_for(key, range_end, prefix, from_key), prev_kv).to_pb(self._ns)

        def fn(s: Stubs, t: float | None, md: Metadata) -> Awaitable[rpc_pb2.DeleteRangeResponse]:
            return s.kv.DeleteRange(req, timeout=t, metadata=md)

        resp = await self._transport.call(fn, idempotent=False, revision_of=_rev, timeout=timeout)
        return self._ns.delete(resp)

    async def txn(self, txn: Txn, *, timeout: float | None = None) -> TxnResponse:
        """Run a transaction (see ``etcdkit.client.txn``). Read-only txns are retried like reads."""
        req = txn.to_pb(self._ns)

        def fn(s: Stubs, t: float | None, md: Metadata) -> Awaitable[rpc_pb2.TxnResponse]:
            return s.kv.Txn(req, timeout=t, metadata=md)

        resp = await self._transport.call(fn, idempotent=txn.read_only, revision_of=_rev, timeout=timeout)
        return self._ns.txn(resp)

    async def compact(self, revision: int, *, physical: bool = False, timeout: float | None = None) -> int:
        """Compact history up to ``revision``; returns the header revision."""
        req = rpc_pb2.CompactionRequest(revision=revision, physical=physical)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.CompactionResponse:
            return await s.kv.Compact(req, timeout=t, metadata=md)

        # Compacting twice to the same revision is harmless (it fails as "compacted").
        resp = await self._transport.call(fn, idempotent=True, timeout=timeout)
        return resp.header.revision


def _rev(resp: rpc_pb2.RangeResponse | rpc_pb2.PutResponse | rpc_pb2.DeleteRangeResponse | rpc_pb2.TxnResponse) -> int:
    return resp.header.revision
