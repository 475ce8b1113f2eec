"""Conformance: basic KV (put/get/delete, revisions, empty-key errors)."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn, case


@case(fresh=True)
def case_fresh_store_is_at_revision_1(c: Conn) -> None:
    c.record(c.base_rev, "raw revision of a fresh store")
    c.call(c.kv.Range, pb.RangeRequest(key=b"\x00", range_end=b"\x00"), "empty store range")


@case
def case_put_then_get(c: Conn) -> None:
    c.call(c.kv.Put, pb.PutRequest(key=c.k("a"), value=b"1"), "put a")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("a"), value=b"2", prev_kv=True), "overwrite a with prev_kv")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "get a")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a"), prev_kv=True), "delete a")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "get a after delete")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete missing keeps revision")


@case
def case_empty_key_errors(c: Conn) -> None:
    c.call(c.kv.Put, pb.PutRequest(key=b"", value=b"x"), "put empty key")
    c.call(c.kv.Range, pb.RangeRequest(key=b""), "range empty key")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=b""), "delete empty key")
