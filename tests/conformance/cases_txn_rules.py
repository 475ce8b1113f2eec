"""Conformance: Txn request rules (operation limits and the duplicate-key rule).

etcd checks these before anything is applied, so a rejected txn never bumps
the revision; every case ends by reading its namespace to show that.
"""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import Result, Target, cmp, op_delete, op_put, op_range, op_txn, prefix
from .harness import Conn, case


def _txn(c: Conn, label: str, success=None, failure=None, compare=None) -> None:  # type: ignore[no-untyped-def]
    c.call(c.kv.Txn, pb.TxnRequest(compare=compare, success=success, failure=failure), label)


def _count(c: Conn, label: str = "keys written") -> None:
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end, count_only=True), label)


def _puts(c: Conn, n: int, tag: str = "k") -> list[pb.RequestOp]:
    return [op_put(c, f"{tag}{i:03d}", b"x") for i in range(n)]


@case
def case_txn_default_op_limit_128(c: Conn) -> None:
    _txn(c, "128 puts", _puts(c, 128))
    _txn(c, "129 puts", _puts(c, 129, "m"))
    _txn(c, "129 ops in the failure branch (not taken)", [op_range(c, "k000")], _puts(c, 129, "f"))
    compares = [cmp(c, f"k{i:03d}", Target.VERSION, Result.GREATER, version=0) for i in range(129)]
    _txn(c, "129 compares", [], [], compares)
    _txn(c, "128 compares", [op_range(c, "k000", count_only=True)], [], compares[:128])
    _count(c)


@case(extra_args=("--max-txn-ops=4",))
def case_txn_max_txn_ops_flag(c: Conn) -> None:
    _txn(c, "4 ops", _puts(c, 4))
    _txn(c, "5 ops", _puts(c, 5, "m"))
    _txn(c, "5 compares", [], [], [cmp(c, "k000", Target.VERSION, Result.GREATER) for _ in range(5)])
    # A nested txn gets the budget left by its parent level (4 - parent ops).
    _txn(c, "2 ops + nested 2 ops", [op_put(c, "a"), op_txn([], _puts(c, 2, "n"))])
    _txn(c, "2 ops + nested 3 ops", [op_put(c, "b"), op_txn([], _puts(c, 3, "o"))])
    _txn(c, "1 op + nested 3 ops", [op_txn([], _puts(c, 3, "p"))])
    _count(c)


@case
def case_txn_duplicate_puts_same_level(c: Conn) -> None:
    _txn(c, "two puts of one key", [op_put(c, "a", b"1"), op_put(c, "a", b"2")])
    _txn(
        c,
        "two puts of one key in the failure branch (not taken)",
        [op_put(c, "b")],
        [op_put(c, "a", b"1"), op_put(c, "a", b"2")],
    )
    _txn(c, "same key in success and failure is fine", [op_put(c, "a", b"s")], [op_put(c, "a", b"f")])
    _count(c)


@case
def case_txn_put_inside_delete_same_level(c: Conn) -> None:
    key, end = prefix(c, "p/")
    _txn(c, "delete prefix then put inside it", [op_delete(c, "p/", end), op_put(c, "p/x")])
    _txn(c, "put then delete of the same key", [op_put(c, "a"), op_delete(c, "a")])
    _txn(c, "put then delete of a range holding it", [op_put(c, "m"), op_delete(c, "l", c.k("n"))])
    _txn(c, "put just outside the delete range", [op_delete(c, "l", c.k("n")), op_put(c, "n")])
    _txn(c, "overlapping deletes are fine", [op_delete(c, "p/", end), op_delete(c, "p/a"), op_delete(c, "p/", end)])
    _txn(c, "range and put of one key is fine", [op_range(c, "r"), op_put(c, "r"), op_range(c, "r")])
    _ = key
    _count(c)


@case
def case_txn_duplicate_rules_nested(c: Conn) -> None:
    t = op_txn
    _txn(c, "child then/else put the same key", [t([], [op_put(c, "a", b"then")], [op_put(c, "a", b"else")])])
    _txn(c, "child put overlaps parent put", [op_put(c, "b"), t([], [op_put(c, "b")])])
    _txn(c, "child else put overlaps parent put", [op_put(c, "b"), t([], [], [op_put(c, "b")])])
    _txn(c, "child put inside parent delete", [op_delete(c, "c"), t([], [op_put(c, "c")])])
    _txn(c, "parent put inside child delete", [t([], [op_delete(c, "d")]), op_put(c, "d")])
    _txn(c, "two children put the same key", [t([], [op_put(c, "e")]), t([], [op_put(c, "e")])])
    _txn(c, "second child puts into first child's delete", [t([], [op_delete(c, "f")]), t([], [op_put(c, "f")])])
    _txn(c, "first child puts into second child's delete", [t([], [op_put(c, "g")]), t([], [op_delete(c, "g")])])
    _txn(c, "child delete overlaps parent delete", [op_delete(c, "h"), t([], [op_delete(c, "h")])])
    _txn(c, "grandchild put overlaps parent put", [op_put(c, "i"), t([], [t([], [op_put(c, "i")])])])
    _txn(c, "child put and parent range of one key", [op_range(c, "j"), t([], [op_put(c, "j")])])
    _count(c)
