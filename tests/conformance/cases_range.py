"""Conformance: Range (key ranges, limit/more/count, sorting, revisions, filters, options)."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import prefix, put, rev, seed
from .harness import Conn, case

SortOrder = pb.RangeRequest.SortOrder
SortTarget = pb.RangeRequest.SortTarget


def _rng(c: Conn, label: str, key: bytes, range_end: bytes = b"", **kw: object) -> object:
    return c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=range_end, **kw), label)  # type: ignore[arg-type]


@case
def case_range_single_key(c: Conn) -> None:
    seed(c, [("a", b"1"), ("ab", b"2"), ("b", b"3")])
    _rng(c, "get a (not ab)", c.k("a"))
    _rng(c, "get missing key", c.k("aa"))


@case
def case_range_prefix(c: Conn) -> None:
    seed(c, [("p", b"0"), ("p/a", b"1"), ("p/b", b"2"), ("p/c/d", b"3"), ("pz", b"4"), ("q", b"5")])
    key, end = prefix(c, "p/")
    _rng(c, "prefix p/", key, end)
    key, end = prefix(c, "none/")
    _rng(c, "empty prefix", key, end)


@case
def case_range_prefix_with_0xff(c: Conn) -> None:
    put(c, "a", b"0")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("a") + b"\xff", value=b"ff"), "put a\\xff")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("a") + b"\xff\xff\x01", value=b"ffff"), "put a\\xff\\xff\\x01")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("b"), value=b"b"), "put b")
    # prefix_end(ns + "a\xff\xff") is ns + "b": trailing 0xff bytes are dropped before incrementing.
    _rng(c, "prefix a\\xff\\xff", c.k("a") + b"\xff\xff", c.k("b"))
    _rng(c, "explicit [a, b)", c.k("a"), c.k("b"))


@case
def case_range_key_after_range_end_is_empty(c: Conn) -> None:
    seed(c, [("a", b"1"), ("b", b"2")])
    _rng(c, "[b, a)", c.k("b"), c.k("a"))
    _rng(c, "[a, a)", c.k("a"), c.k("a"))


@case(fresh=True)
def case_range_from_key(c: Conn) -> None:
    seed(c, [("a", b"1"), ("b", b"2"), ("c", b"3")])
    _rng(c, "from b", c.k("b"), b"\x00")
    _rng(c, "from b with limit 1", c.k("b"), b"\x00", limit=1)
    _rng(c, "from after last key", c.k("d"), b"\x00")


@case(fresh=True)
def case_range_all_keys(c: Conn) -> None:
    seed(c, [("a", b"1"), ("b", b"2")])
    _rng(c, "all keys", b"\x00", b"\x00")
    _rng(c, "all keys count_only", b"\x00", b"\x00", count_only=True)
    _rng(c, "single key \\0", b"\x00")


@case
def case_range_limit_more_count(c: Conn) -> None:
    seed(c, [(k, k.encode()) for k in "abcde"])
    key, end = prefix(c, "")
    for limit in (1, 2, 4, 5, 6, 0, -1):
        _rng(c, f"limit {limit}", key, end, limit=limit)


@case
def case_range_sort_every_order_and_target(c: Conn) -> None:
    # Every target orders the four keys differently, with no ties:
    #   key a<b<c<d; version d1<a2<c3<b4; create b<c<a<d; mod c<b<a<d; value b"e"(b)<m(d)<x(c)<z(a).
    for k, v in (
        ("b", b"b1"),
        ("c", b"c1"),
        ("a", b"a1"),
        ("b", b"b2"),
        ("c", b"c2"),
        ("b", b"b3"),
        ("c", b"x"),
        ("b", b"e"),
        ("a", b"z"),
        ("d", b"m"),
    ):
        put(c, k, v)
    key, end = prefix(c, "")
    for target in ("KEY", "VERSION", "CREATE", "MOD", "VALUE"):
        for order in ("NONE", "ASCEND", "DESCEND"):
            _rng(
                c,
                f"sort {target} {order}",
                key,
                end,
                sort_target=SortTarget.Value(target),
                sort_order=SortOrder.Value(order),
                keys_only=True,
            )


@case
def case_range_sort_ties_keep_key_order(c: Conn) -> None:
    seed(c, [("d", b"same"), ("b", b"same"), ("a", b"other"), ("c", b"same")])
    key, end = prefix(c, "")
    _rng(c, "value ascend", key, end, sort_target=SortTarget.VALUE, sort_order=SortOrder.ASCEND)
    _rng(c, "version descend", key, end, sort_target=SortTarget.VERSION, sort_order=SortOrder.DESCEND)


@case
def case_range_sort_then_limit(c: Conn) -> None:
    seed(c, [("a", b"3"), ("b", b"1"), ("c", b"4"), ("d", b"2")])
    key, end = prefix(c, "")
    _rng(c, "key descend limit 2", key, end, sort_order=SortOrder.DESCEND, limit=2)
    _rng(c, "value ascend limit 2", key, end, sort_target=SortTarget.VALUE, sort_order=SortOrder.ASCEND, limit=2)
    _rng(c, "mod descend limit 3", key, end, sort_target=SortTarget.MOD, sort_order=SortOrder.DESCEND, limit=3)


@case
def case_range_invalid_sort_order_is_ignored(c: Conn) -> None:
    # etcd 3.4.23 does not validate sort_order: a value outside the enum neither
    # ascends nor descends, so the result stays in key order. (3.5+ rejects it with
    # "etcdserver: invalid sort option".) An invalid sort_target is not tested here:
    # it makes etcd 3.4.23 panic (nil sorter), see docs/compatibility.md.
    seed(c, [("b", b"1"), ("a", b"1"), ("a", b"2")])
    key, end = prefix(c, "")
    _rng(c, "sort_order=7 target KEY", key, end, sort_order=7)
    _rng(c, "sort_order=7 target VERSION", key, end, sort_order=7, sort_target=SortTarget.VERSION)
    _rng(c, "sort_order=-1 target VALUE", key, end, sort_order=-1, sort_target=SortTarget.VALUE)


@case
def case_range_historical_revisions(c: Conn) -> None:
    r1 = rev(put(c, "a", b"1"))
    r2 = rev(put(c, "a", b"2"))
    r3 = rev(put(c, "b", b"1"))
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
    put(c, "a", b"3")
    key, end = prefix(c, "")
    for label, r in (("before the case", r1 - 1), ("r1", r1), ("r2", r2), ("r3", r3), ("r4 (a deleted)", r3 + 1)):
        _rng(c, f"prefix at {label}", key, end, revision=r)
    _rng(c, "revision 0 is current", key, end, revision=0)
    _rng(c, "negative revision is current", key, end, revision=-5)


@case
def case_range_future_revision(c: Conn) -> None:
    now = rev(put(c, "a"))
    _rng(c, "at current", c.k("a"), revision=now)
    _rng(c, "current + 1", c.k("a"), revision=now + 1)
    _rng(c, "current + 1000", c.k("a"), revision=now + 1000)


@case
def case_range_serializable(c: Conn) -> None:
    seed(c, [("a", b"1"), ("b", b"2")])
    key, end = prefix(c, "")
    _rng(c, "serializable prefix", key, end, serializable=True)
    _rng(c, "serializable single key with limit", c.k("a"), serializable=True, limit=1)


@case
def case_range_keys_only_and_count_only(c: Conn) -> None:
    seed(c, [("a", b"1"), ("b", b"2"), ("c", b"3")])
    key, end = prefix(c, "")
    _rng(c, "keys_only", key, end, keys_only=True)
    _rng(c, "count_only", key, end, count_only=True)
    _rng(c, "count_only with limit 1", key, end, count_only=True, limit=1)
    _rng(c, "keys_only and count_only", key, end, keys_only=True, count_only=True)
    _rng(c, "count_only on missing", c.k("zz"), count_only=True)


@case
def case_range_mod_revision_filters(c: Conn) -> None:
    revs = seed(c, [("a", b"1"), ("b", b"1"), ("c", b"1"), ("d", b"1")])
    put(c, "a", b"2")
    key, end = prefix(c, "")
    _rng(c, "min_mod r2", key, end, min_mod_revision=revs[1])
    _rng(c, "max_mod r2", key, end, max_mod_revision=revs[1])
    _rng(c, "min r2 max r3", key, end, min_mod_revision=revs[1], max_mod_revision=revs[2])
    _rng(c, "min_mod r2 limit 1", key, end, min_mod_revision=revs[1], limit=1)
    _rng(c, "min_mod r2 limit 3", key, end, min_mod_revision=revs[1], limit=3)
    _rng(c, "max_mod r1 limit 1", key, end, max_mod_revision=revs[0], limit=1)
    _rng(c, "min_mod above all", key, end, min_mod_revision=revs[3] + 10)
    _rng(c, "min_mod r3 count_only", key, end, min_mod_revision=revs[2], count_only=True)


@case
def case_range_create_revision_filters(c: Conn) -> None:
    revs = seed(c, [("a", b"1"), ("b", b"1"), ("c", b"1")])
    put(c, "a", b"2")
    key, end = prefix(c, "")
    _rng(c, "min_create r2", key, end, min_create_revision=revs[1])
    _rng(c, "max_create r2", key, end, max_create_revision=revs[1])
    _rng(c, "max_create r2 limit 1", key, end, max_create_revision=revs[1], limit=1)
    _rng(
        c,
        "min_create r2 sorted by mod descend",
        key,
        end,
        min_create_revision=revs[1],
        sort_target=SortTarget.MOD,
        sort_order=SortOrder.DESCEND,
    )
    _rng(c, "filters at a historical revision", key, end, revision=revs[1], min_create_revision=revs[1])


@case
def case_range_historical_limit_and_count(c: Conn) -> None:
    revs = seed(c, [(k, b"1") for k in "abcd"])
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
    put(c, "e", b"1")
    key, end = prefix(c, "")
    _rng(c, "at r2 limit 1", key, end, revision=revs[1], limit=1)
    _rng(c, "at r4 (before delete) count_only", key, end, revision=revs[3], count_only=True)
    _rng(c, "at r5 (a deleted) keys_only limit 2", key, end, revision=revs[3] + 1, keys_only=True, limit=2)
    _rng(
        c,
        "at r4 sorted by create descend limit 2",
        key,
        end,
        revision=revs[3],
        limit=2,
        sort_target=SortTarget.CREATE,
        sort_order=SortOrder.DESCEND,
    )
