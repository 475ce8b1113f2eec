"""Conformance: malformed request bytes get etcd's answer; the server keeps serving."""

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
