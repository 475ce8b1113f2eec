"""Conformance: Txn branches, nesting, revisions and read-your-writes inside a txn."""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import Result, Target, cmp, grant, op_delete, op_put, op_range, op_txn, prefix, put, revoke
from .harness import Conn, case


def _txn(c: Conn, label: str, compare=None, success=None, failure=None) -> object:  # type: ignore[no-untyped-def]
    return c.call(c.kv.Txn, pb.TxnRequest(compare=compare, success=success, failure=failure), label)


def _value_is(c: Conn, key: str, value: bytes) -> pb.Compare:
    return cmp(c, key, Target.VALUE, Result.EQUAL, value=value)


def _all(c: Conn, label: str) -> None:
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end), label)


@case
def case_txn_success_branch(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "d", b"old")
    _txn(
        c,
        "compare true: success ops run (range, put prev_kv, delete prev_kv)",
        [_value_is(c, "a", b"1")],
        [
            op_range(c, "a"),
            op_put(c, "b", b"2", prev_kv=True),
            op_put(c, "a", b"3", prev_kv=True),
            op_delete(c, "d", prev_kv=True),
        ],
        [op_put(c, "f", b"failure")],
    )
    _all(c, "after")


@case
def case_txn_failure_branch(c: Conn) -> None:
    put(c, "a", b"1")
    _txn(
        c,
        "compare false: failure ops run",
        [_value_is(c, "a", b"nope")],
        [op_put(c, "s", b"success")],
        [op_put(c, "f", b"failure", prev_kv=True), op_range(c, "a", keys_only=True), op_delete(c, "a")],
    )
    _all(c, "after")


@case
def case_txn_empty(c: Conn) -> None:
    put(c, "a", b"1")
    _txn(c, "no compares, no ops")
    _txn(c, "false compare, empty failure", [_value_is(c, "a", b"2")], [op_put(c, "x")])


@case
def case_txn_one_revision_per_txn(c: Conn) -> None:
    put(c, "gone", b"x")
    _txn(
        c,
        "three puts and a delete",
        [],
        [op_put(c, "a", b"1"), op_put(c, "b", b"2"), op_put(c, "c", b"3"), op_delete(c, "gone")],
    )
    _all(c, "all keys share one mod_revision")
    _txn(c, "puts again", [], [op_put(c, "a", b"4"), op_put(c, "b", b"5")])
    _all(c, "versions 2, next revision")


@case
def case_txn_reads_see_earlier_writes(c: Conn) -> None:
    put(c, "a", b"old")
    put(c, "gone", b"x")
    key, end = prefix(c, "")
    _txn(
        c,
        "put, read, delete, read, read prefix in one txn",
        [],
        [
            op_range(c, "a"),
            op_put(c, "a", b"new"),
            op_range(c, "a"),
            op_delete(c, "gone", prev_kv=True),
            op_range(c, "gone"),
            op_put(c, "n", b"fresh"),
            pb.RequestOp(request_range=pb.RangeRequest(key=key, range_end=end, count_only=True)),
            pb.RequestOp(request_range=pb.RangeRequest(key=key, range_end=end, limit=1)),
        ],
    )


@case
def case_txn_read_only_keeps_revision(c: Conn) -> None:
    put(c, "a", b"1")
    _txn(c, "only ranges", [], [op_range(c, "a"), op_range(c, "missing")])
    _txn(c, "only serializable ranges", [], [op_range(c, "a", serializable=True)])
    _txn(c, "delete of a missing key", [], [op_delete(c, "missing", prev_kv=True)])
    key, end = prefix(c, "none/")
    _txn(c, "delete of an empty prefix", [], [op_delete(c, "none/", end, prev_kv=True)])
    _ = key
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a")), "revision unchanged")


@case
def case_txn_range_options_inside_txn(c: Conn) -> None:
    for k, v in (("a", b"3"), ("b", b"1"), ("c", b"2")):
        put(c, k, v)
    key, end = prefix(c, "")
    ST, SO = pb.RangeRequest.SortTarget, pb.RangeRequest.SortOrder
    reqs = [
        pb.RangeRequest(key=key, range_end=end, limit=2),
        pb.RangeRequest(key=key, range_end=end, count_only=True),
        pb.RangeRequest(key=key, range_end=end, keys_only=True, sort_target=ST.VALUE, sort_order=SO.DESCEND),
        pb.RangeRequest(key=key, range_end=end, sort_target=ST.MOD),
    ]
    _txn(
        c,
        "limit, count_only, keys_only+sort, target without order",
        [],
        [pb.RequestOp(request_range=r) for r in reqs],
    )


@case
def case_txn_nested(c: Conn) -> None:
    put(c, "a", b"1")
    inner_true = op_txn(
        [_value_is(c, "a", b"1")], [op_put(c, "in-then", b"t"), op_range(c, "a")], [op_put(c, "in-else", b"e")]
    )
    inner_false = op_txn(
        [_value_is(c, "a", b"2")],
        [op_put(c, "in2-then", b"t")],
        [op_put(c, "in2-else", b"e", prev_kv=True), op_range(c, "in-then")],
    )
    _txn(
        c,
        "outer true with two nested txns",
        [_value_is(c, "a", b"1")],
        [op_put(c, "outer", b"o"), inner_true, inner_false],
    )
    _all(c, "after (one revision)")
    deep = op_txn([], [op_txn([], [op_txn([], [op_put(c, "deep", b"3")])])])
    _txn(c, "three levels deep", [], [deep])
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("deep")), "deep")


@case
def case_txn_nested_compare_sees_state_before_txn(c: Conn) -> None:
    put(c, "a", b"old")
    inner = op_txn([_value_is(c, "a", b"new")], [op_put(c, "saw-new")], [op_put(c, "saw-old")])
    _txn(c, "outer writes a, nested compares a", [], [op_put(c, "a", b"new"), inner])
    _all(c, "which branch ran")


@case
def case_txn_nested_in_failure_branch(c: Conn) -> None:
    put(c, "a", b"1")
    inner = op_txn(
        [cmp(c, "missing", Target.CREATE, Result.EQUAL, create_revision=0)], [op_put(c, "created", b"y")], []
    )
    _txn(c, "outer false, nested in failure", [_value_is(c, "a", b"x")], [op_put(c, "s")], [inner])
    _all(c, "after")


@case
def case_txn_empty_request_op(c: Conn) -> None:
    _txn(c, "empty op in success", [], [pb.RequestOp()])
    _txn(c, "empty op in the failure branch (not taken)", [], [op_put(c, "a")], [pb.RequestOp()])
    _txn(c, "empty op inside a nested txn", [], [op_txn([], [pb.RequestOp()])])
    _all(c, "nothing written")


@case
def case_txn_empty_keys(c: Conn) -> None:
    empty_cmp = pb.Compare(key=b"", target=Target.VERSION, result=Result.EQUAL)
    _txn(c, "compare with empty key", [empty_cmp], [op_put(c, "a")])
    _txn(c, "put with empty key", [], [pb.RequestOp(request_put=pb.PutRequest(key=b"", value=b"x"))])
    _txn(c, "range with empty key", [], [pb.RequestOp(request_range=pb.RangeRequest(key=b""))])
    _txn(c, "delete with empty key", [], [pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=b""))])
    _txn(c, "nested compare with empty key", [], [op_txn([empty_cmp])])
    _txn(
        c,
        "empty key in the branch not taken",
        [],
        [op_put(c, "b")],
        [pb.RequestOp(request_put=pb.PutRequest(key=b"", value=b"x"))],
    )
    _all(c, "nothing written")


@case
def case_txn_unknown_lease(c: Conn) -> None:
    bad = 0x7EAD_BEEF
    put(c, "a", b"1")
    _txn(c, "unknown lease in the taken branch", [], [op_put(c, "b", b"1"), op_put(c, "c", b"1", lease=bad)])
    _txn(c, "unknown lease in the branch not taken", [], [op_put(c, "b", b"2")], [op_put(c, "c", lease=bad)])
    _txn(c, "unknown lease in a nested txn", [], [op_put(c, "d"), op_txn([], [op_put(c, "e", lease=bad)])])
    _all(c, "only the second txn wrote")


@case
def case_txn_ignore_flags_on_missing_key(c: Conn) -> None:
    put(c, "a", b"1")
    _txn(c, "ignore_value on a missing key", [], [op_put(c, "a", b"2"), op_put(c, "m", b"", ignore_value=True)])
    _txn(c, "ignore_lease on a missing key", [], [op_put(c, "m", b"x", ignore_lease=True)])
    _txn(c, "ignore_value with a value", [], [op_put(c, "a", b"x", ignore_value=True)])
    _txn(c, "ignore_value on an existing key", [], [op_put(c, "a", b"", ignore_value=True, prev_kv=True)])
    _all(c, "after")


@case
def case_txn_range_future_revision(c: Conn) -> None:
    now = int(put(c, "a", b"1").header.revision)
    _txn(c, "read-only txn at current+1", [], [op_range(c, "a", revision=now + 1)])
    _txn(c, "write txn with a range at current+1", [], [op_put(c, "b"), op_range(c, "a", revision=now + 1)])
    _txn(c, "write txn with a range at current+2", [], [op_put(c, "b"), op_range(c, "a", revision=now + 2)])
    _txn(c, "future revision in the branch not taken", [], [op_range(c, "a")], [op_range(c, "a", revision=now + 9)])
    _all(c, "after")


@case
def case_txn_range_compacted_revision(c: Conn) -> None:
    # Compacting the shared server is safe: later cases only read revisions after their own start.
    r1 = int(put(c, "a", b"1").header.revision)
    r2 = int(put(c, "a", b"2").header.revision)
    c.call(c.kv.Compact, pb.CompactionRequest(revision=r2), "compact at r2")
    _txn(c, "range below the compaction", [], [op_range(c, "a", revision=r1)])
    _txn(c, "write txn with a compacted range", [], [op_put(c, "b"), op_range(c, "a", revision=r1)])
    _txn(c, "range at the compaction revision", [], [op_range(c, "a", revision=r2)])
    _all(c, "b not written")


@case
def case_txn_range_invalid_sort_order(c: Conn) -> None:
    # etcd 3.4.23 ignores a sort_order outside the enum (see cases_range.py).
    put(c, "b", b"1")
    put(c, "a", b"2")
    key, end = prefix(c, "")
    _txn(
        c,
        "sort_order=7 in a txn range",
        [],
        [pb.RequestOp(request_range=pb.RangeRequest(key=key, range_end=end, sort_order=7))],  # type: ignore[arg-type]
    )


@case
def case_txn_put_with_lease(c: Conn) -> None:
    lid = grant(c)
    try:
        _txn(c, "two puts with a lease in one txn", [], [op_put(c, "a", lease=lid), op_put(c, "b", lease=lid)])
        _txn(c, "ignore_lease inside a txn", [], [op_put(c, "a", b"2", ignore_lease=True, prev_kv=True)])
        _all(c, "both attached")
    finally:
        revoke(c, lid, "revoke deletes both in one revision")
    _all(c, "nothing left")
