"""Protobuf <-> typed dataclass conversion, with namespace prefixing.

The namespace (clientv3's ``namespace`` package) is applied here and only
here: outgoing keys get the prefix, outgoing range ends are mapped into the
prefix (``b"\\0"``, "every key from here", becomes the end of the
namespace), incoming keys lose the prefix.
"""

from __future__ import annotations

from etcdkit.api.keys import FROM_KEY, prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.client.types import (
    DeleteResponse,
    Event,
    EventType,
    GetResponse,
    KeyValue,
    Member,
    PutResponse,
    ResponseHeader,
    TxnResponse,
)

__all__ = ["Namespace", "header"]


_EVENT_TYPES = (EventType.PUT, EventType.DELETE)  # by wire value (mvccpb.Event.EventType)


def header(h: rpc_pb2.ResponseHeader) -> ResponseHeader:
    return ResponseHeader(h.cluster_id, h.member_id, h.revision, h.raft_term)


def member(m: rpc_pb2.Member) -> Member:
    return Member(m.ID, m.name, tuple(m.peerURLs), tuple(m.clientURLs), m.isLearner)


class Namespace:
    """Key prefix isolation. ``Namespace(b"")`` is the identity."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix

    def key(self, key: bytes) -> bytes:
        return self.prefix + key

    def range_end(self, key: bytes, range_end: bytes) -> bytes:
        if not self.prefix or not range_end:
            return range_end
        if range_end == FROM_KEY:
            # "every key >= key" inside the namespace; also covers key == b"\0" (all keys).
            return prefix_end(self.prefix)
        return self.prefix + range_end

    def strip(self, key: bytes) -> bytes:
        if self.prefix and key.startswith(self.prefix):
            return key[len(self.prefix) :]
        return key

    # --- responses -------------------------------------------------------------

    def kv(self, kv: kv_pb2.KeyValue) -> KeyValue:
        key = kv.key
        if self.prefix and key.startswith(self.prefix):
            key = key[len(self.prefix) :]
        return KeyValue(key, kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)

    def event(self, e: kv_pb2.Event) -> Event:
        prev = self.kv(e.prev_kv) if e.HasField("prev_kv") else None
        return Event(_EVENT_TYPES[e.type], self.kv(e.kv), prev)

    def get(self, r: rpc_pb2.RangeResponse) -> GetResponse:
        h = r.header
        kvs = r.kvs
        return GetResponse(
            ResponseHeader(h.cluster_id, h.member_id, h.revision, h.raft_term),
            tuple([self.kv(kv) for kv in kvs]) if kvs else (),
            r.count,
            r.more,
        )

    def put(self, r: rpc_pb2.PutResponse) -> PutResponse:
        h = r.header
        return PutResponse(
            ResponseHeader(h.cluster_id, h.member_id, h.revision, h.raft_term),
            self.kv(r.prev_kv) if r.HasField("prev_kv") else None,
        )

    def delete(self, r: rpc_pb2.DeleteRangeResponse) -> DeleteResponse:
        return DeleteResponse(header(r.header), r.deleted, tuple(self.kv(kv) for kv in r.prev_kvs))

    def txn(self, r: rpc_pb2.TxnResponse) -> TxnResponse:
        out: list[GetResponse | PutResponse | DeleteResponse | TxnResponse] = []
        for op in r.responses:
            which = op.WhichOneof("response")
            if which == "response_range":
                out.append(self.get(op.response_range))
            elif which == "response_put":
                out.append(self.put(op.response_put))
            elif which == "response_delete_range":
                out.append(self.delete(op.response_delete_range))
            elif which == "response_txn":
                out.append(self.txn(op.response_txn))
        return TxnResponse(header(r.header), r.succeeded, tuple(out))
