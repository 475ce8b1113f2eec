"""Conformance: malformed and oversize requests get etcd's answers; the server keeps serving."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn, case


@case
def case_truncated_protobuf_is_internal_error(c: Conn) -> None:
    raw = c.channel.unary_unary(
        "/etcdserverpb.KV/Put", request_serializer=lambda b: b, response_deserializer=lambda b: b
    )
    c.record(c.try_call(raw, b"\x0a\xff\xff\xff\xff\x0f"), "truncated bytes")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("after"), value=b"ok"), "server still serves")


@case(extra_args=("--max-request-bytes=1024",))
def case_request_too_large(c: Conn) -> None:
    c.call(c.kv.Put, pb.PutRequest(key=c.k("big"), value=b"x" * 2000), "put above --max-request-bytes")
    txn = pb.TxnRequest(success=[pb.RequestOp(request_put=pb.PutRequest(key=c.k("t"), value=b"y" * 2000))])
    c.call(c.kv.Txn, txn, "txn above --max-request-bytes")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("small"), value=b"x"), "small put still works")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("big")), "nothing of the big put was stored")
