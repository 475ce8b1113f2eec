"""Conformance: DeleteRange (single key, prefix, from-key, explicit ranges, prev_kv, no-op deletes)."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import prefix, put, seed
from .harness import Conn, case


def _del(c: Conn, label: str, key: bytes, range_end: bytes = b"", **kw: bool) -> None:
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=key, range_end=range_end, **kw), label)


def _all(c: Conn, label: str) -> None:
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end, keys_only=True), label)


@case
def case_delete_prefix_with_prev_kv(c: Conn) -> None:
    seed(c, [("p/b", b"2"), ("p/a", b"1"), ("p", b"0"), ("q", b"3"), ("p/c", b"3")])
    key, end = prefix(c, "p/")
    _del(c, "delete prefix p/ with prev_kv (one revision, sorted by key)", key, end, prev_kv=True)
    _all(c, "left: p, q")


@case
def case_delete_prefix_without_prev_kv(c: Conn) -> None:
    seed(c, [("p/a", b"1"), ("p/b", b"2")])
    key, end = prefix(c, "p/")
    _del(c, "delete prefix p/", key, end)
    _all(c, "nothing left")


@case
def case_delete_explicit_range(c: Conn) -> None:
    seed(c, [(k, k.encode()) for k in "abcde"])
    _del(c, "delete [b, d)", c.k("b"), c.k("d"), prev_kv=True)
    _del(c, "delete [e, a) deletes nothing", c.k("e"), c.k("a"))
    _all(c, "left: a, d, e")


@case(fresh=True)
def case_delete_from_key(c: Conn) -> None:
    seed(c, [(k, k.encode()) for k in "abcd"])
    _del(c, "delete from c", c.k("c"), b"\x00", prev_kv=True)
    _all(c, "left: a, b")


@case(fresh=True)
def case_delete_all_keys(c: Conn) -> None:
    seed(c, [("a", b"1"), ("b", b"2")])
    _del(c, "delete everything", b"\x00", b"\x00")
    c.call(c.kv.Range, pb.RangeRequest(key=b"\x00", range_end=b"\x00"), "store is empty")
    _del(c, "delete everything again keeps the revision", b"\x00", b"\x00")


@case
def case_delete_nothing_keeps_revision(c: Conn) -> None:
    put(c, "a", b"1")
    _del(c, "delete a missing key", c.k("missing"), prev_kv=True)
    key, end = prefix(c, "none/")
    _del(c, "delete an empty prefix", key, end, prev_kv=True)
    _del(c, "delete a (bumps)", c.k("a"))
    _del(c, "delete a again (no bump)", c.k("a"), prev_kv=True)
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "header revision is still the delete's")


@case
def case_delete_then_recreate(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "a", b"2")
    _del(c, "delete a", c.k("a"), prev_kv=True)
    put(c, "a", b"3", "recreate a", prev_kv=True)
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "version 1, new create_revision")
